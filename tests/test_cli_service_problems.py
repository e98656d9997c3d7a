"""`troubleflow service-problem …` drives the same service problem use cases as the TMF656 API."""

from __future__ import annotations

import json

from click.testing import CliRunner

from troubleflow.cli import main


def run(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--database-url", database_url, *args])
    return result.exit_code, result.output


def _report(database_url: str) -> str:
    code, out = run(
        database_url, "ticket", "create", "--description", "Modem shows red DSL light", "--severity", "Major",
        "--type", "incident",
    )  # fmt: skip
    assert code == 0, out
    return str(json.loads(out)["id"])


def test_a_problem_is_raised_from_a_report_estimated_moved_and_its_trail_shown(
    db: object, database_url: str
) -> None:
    ticket_id = _report(database_url)
    code, out = run(
        database_url, "service-problem", "raise", ticket_id, "--name", "DSLAM down", "--priority", "2"
    )
    assert code == 0, out
    problem_id = out.split()[0]
    assert f"reports {ticket_id}" in out and "DSLAM down" in out

    code, out = run(database_url, "service-problem", "eta", problem_id, "2026-03-02T15:00:00Z")
    assert code == 0 and "eta 2026-03-02T15:00" in out
    code, out = run(
        database_url, "service-problem", "move", problem_id, "inProgress", "--reason", "crew sent"
    )
    assert code == 0 and "inProgress" in out

    code, out = run(database_url, "service-problem", "list", "--status", "inProgress")
    assert code == 0 and problem_id in out
    code, out = run(database_url, "service-problem", "show", problem_id)
    assert code == 0 and json.loads(out)["troubleTicket"][0]["id"] == ticket_id
    code, out = run(database_url, "service-problem", "history", problem_id)
    assert code == 0 and "1.4.6.1" in out and "acknowledged->inProgress" in out


def test_a_problem_created_for_two_reports_and_bad_moves_are_clear_errors(
    db: object, database_url: str
) -> None:
    first, second = _report(database_url), _report(database_url)
    code, out = run(
        database_url, "service-problem", "create", "--category", "access", "--priority", "3",
        "--description", "DSLAM fra-7 down", "--reason", "alarm", "--service", "svc-1",
        "--ticket", first, "--ticket", second,
    )  # fmt: skip
    assert code == 0, out
    problem_id = out.split()[0]
    assert f"reports {first},{second}" in out

    code, out = run(database_url, "service-problem", "move", problem_id, "closed")
    assert code == 1 and "cannot move to 'closed'" in out
    code, out = run(database_url, "service-problem", "move", problem_id, "sideways")
    assert code == 1 and "not a service problem status" in out
    code, out = run(database_url, "service-problem", "show", "nope")
    assert code == 1 and "no service problem with id 'nope'" in out
    code, out = run(database_url, "service-problem", "raise", "nope")
    assert code == 1 and "no trouble ticket with id 'nope'" in out
