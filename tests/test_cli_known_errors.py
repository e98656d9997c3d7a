"""`troubleflow known-error …` drives the same use cases as the known-error API."""

from __future__ import annotations

import json

from click.testing import CliRunner

from troubleflow.cli import main

LANDLINE = (
    "--title",
    "Landline has no dial-tone after firmware upgrade",
    "--symptom",
    "Telephony stays silent after the automatic firmware upgrade",
    "--workaround",
    "Restart the router twice",
    "--category",
    "access-fault",
    "--fix-status",
    "inProgress",
)


def run(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--database-url", database_url, *args])
    return result.exit_code, result.output


def _ticket(database_url: str, description: str) -> dict[str, object]:
    code, out = run(
        database_url,
        "ticket",
        "create",
        "--description",
        description,
        "--severity",
        "Major",
        "--type",
        "incident",
    )
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


def test_add_list_search_show_update_and_retire(db: object, database_url: str) -> None:
    code, out = run(database_url, "known-error", "add", *LANDLINE)
    assert code == 0, out
    ke_id = json.loads(out)["id"]

    report = _ticket(database_url, "no dial tone on the landline")
    assert report["knownError"]["id"] == ke_id  # offered at intake through the CLI too

    code, out = run(database_url, "known-error", "list", "--fix-status", "inProgress")
    assert code == 0 and "Landline has no dial-tone" in out and "(1 of 1)" in out and "hits=1" in out
    code, out = run(database_url, "known-error", "search", "dial tones")
    assert code == 0 and f"{ke_id:>6}" in out and "(1 of 1)" in out
    code, out = run(database_url, "known-error", "show", ke_id, "--reports")
    assert code == 0 and f"{report['id']} (matched, score" in out

    code, out = run(database_url, "known-error", "update", ke_id, "--fix-status", "fixed", "--if-match", "1")
    assert code == 0 and json.loads(out)["permanentFixStatus"] == "fixed"
    code, out = run(database_url, "known-error", "update", ke_id, "--workaround", "x", "--if-match", "1")
    assert code == 1 and "not 1 (If-Match)" in out

    code, out = run(database_url, "known-error", "retire", ke_id)
    assert code == 0 and "retired" in out
    code, out = run(database_url, "known-error", "search", "dial tone")
    assert code == 0 and "(0 of 0)" in out


def test_from_ticket_records_a_known_error_from_a_diagnosed_report(db: object, database_url: str) -> None:
    report = _ticket(database_url, "No internet, the DSL light keeps blinking after the storm")

    code, out = run(
        database_url, "known-error", "from-ticket", str(report["id"]), "--workaround", "Replace the splitter"
    )

    assert code == 0, out
    known = json.loads(out)
    assert known["sourceTroubleTicket"]["id"] == report["id"] and known["category"] == "access-fault"
    code, out = run(database_url, "ticket", "show", str(report["id"]), "--history")
    assert json.loads(out[: out.rindex("}") + 1])["knownError"]["source"] is True
    assert "1.3.7.1.9" in out and "knownErrorCreated" in out


def test_from_ticket_of_an_unknown_report_is_a_clear_error(db: object, database_url: str) -> None:
    code, out = run(database_url, "known-error", "from-ticket", "nope", "--workaround", "x")

    assert code == 1 and "no trouble ticket with id 'nope'" in out
    code, out = run(database_url, "known-error", "show", "42")
    assert code == 1 and "no known error with id '42'" in out
