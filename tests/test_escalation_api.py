"""Escalations reachable via API and CLI: the NOC view of escalated open reports (TMF630 offset/limit,
X-Total-Count), a NOC engineer's manual escalation (raises only; 409 and nothing changed otherwise), and
`troubleflow escalation …` / `troubleflow notification …`."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from fastapi.testclient import TestClient

from troubleflow.cli import main
from troubleflow.processes.reports import report_history
from troubleflow.storage.db import Database

from .conftest import api, ticket_body

EXT = "/tmf-api/troubleflow/v1"
MERGE = {"Content-Type": "application/merge-patch+json"}


def _create(client: TestClient, **overrides: Any) -> str:
    r = client.post(api("v4") + "/troubleTicket", json=ticket_body("v4", priority=None, **overrides))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _escalate(client: TestClient, rid: str, level: int, **extra: Any) -> Any:
    body = {"level": level, "reason": "customer is a hospital", **extra}
    return client.post(
        f"{EXT}/troubleTicket/{rid}/escalation", json=body, headers={"X-Troubleflow-Actor": "noc-7"}
    )


def _get(client: TestClient, rid: str) -> dict[str, Any]:
    return client.get(f"{api('v4')}/troubleTicket/{rid}").json()  # type: ignore[no-any-return]


def test_a_manual_escalation_raises_the_level_and_notifies_the_levels_list(
    client: TestClient, db: Database
) -> None:
    rid = _create(client, description="Slow speeds in the evening")  # P3 on bronze

    r = _escalate(client, rid, 2)

    assert r.status_code == 201, r.text
    shown = r.json()
    assert shown["escalationLevel"] == 2 and _get(client, rid)["escalationLevel"] == 2
    (step,) = shown["step"]
    assert {k: step[k] for k in ("level", "cause", "role", "notificationList", "actor", "reason")} == {
        "level": 2,
        "cause": "manual",
        "role": "duty-manager",  # the P3 row at level 2 of the matrix
        "notificationList": "duty-managers",
        "actor": "noc-7",
        "reason": "customer is a hospital",
    }
    assert [(n["channel"], n["address"], n["state"]) for n in step["notification"]] == [
        ("email", "duty-managers@operator.example", "pending")
    ]
    escalated = [h for h in report_history(db, rid) if h.action == "escalated"]
    assert [(h.process_id, h.actor) for h in escalated] == [("1.3.7.3.3", "noc-7")]


def test_a_manual_escalation_to_a_given_list_and_workgroup_hands_the_report_over(client: TestClient) -> None:
    rid = _create(client)
    r = _escalate(client, rid, 1, workgroup="core-network", notificationList="major-incident")

    assert r.status_code == 201, r.text
    assert r.json()["escalationWorkgroup"] == "core-network"
    assert {n["channel"] for n in r.json()["step"][0]["notification"]} == {"webhook", "email"}


def test_a_manual_escalation_that_does_not_raise_is_refused_and_changes_nothing(
    client: TestClient, db: Database
) -> None:
    rid = _create(client)
    assert _escalate(client, rid, 2).status_code == 201
    before = (_get(client, rid), len(report_history(db, rid)))

    for level in (2, 1):
        r = _escalate(client, rid, level)
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "conflict"

    assert (_get(client, rid), len(report_history(db, rid))) == before
    assert len(client.get(f"{EXT}/troubleTicket/{rid}/escalation").json()["step"]) == 1


def test_a_manual_escalation_without_a_reason_or_to_an_unknown_list_is_refused(client: TestClient) -> None:
    rid = _create(client)
    assert _escalate(client, rid, 1, reason="").status_code == 400
    assert _escalate(client, rid, 1, notificationList="nobody").status_code == 400
    assert _escalate(client, rid, 0).status_code == 400
    assert (
        client.post(f"{EXT}/troubleTicket/nope/escalation", json={"level": 1, "reason": "x"}).status_code
        == 404
    )
    assert _get(client, rid)["escalationLevel"] == 0


def test_the_noc_view_lists_escalated_open_reports_by_level_with_paging(client: TestClient) -> None:
    low, high, top, calm, closed = (_create(client) for _ in range(5))
    assert _escalate(client, low, 1).status_code == 201
    assert _escalate(client, high, 2).status_code == 201
    assert _escalate(client, top, 3).status_code == 201
    assert _escalate(client, closed, 3).status_code == 201
    cancel = {"status": "cancelled", "statusChangeReason": "duplicate", "statusChangeReasonCode": "duplicate"}
    r = client.patch(f"{api('v4')}/troubleTicket/{closed}", json=cancel, headers=MERGE)
    assert r.status_code == 200, r.text

    everyone = client.get(f"{EXT}/escalation")
    assert [(e["troubleTicket"]["id"], e["escalationLevel"]) for e in everyone.json()] == [
        (top, 3),
        (high, 2),
        (low, 1),
    ]
    first = client.get(f"{EXT}/escalation?level=2&state=open&limit=1")
    assert first.status_code == 206
    assert first.headers["X-Total-Count"] == "2"
    assert [e["troubleTicket"]["id"] for e in first.json()] == [top]
    second = client.get(f"{EXT}/escalation?level=2&offset=1&limit=1")
    assert [e["troubleTicket"]["id"] for e in second.json()] == [high]
    assert calm not in {e["troubleTicket"]["id"] for e in everyone.json()}
    assert client.get(f"{EXT}/escalation?state=closed").status_code == 400
    assert client.get(f"{EXT}/escalation?level=x").status_code == 400


def test_the_cli_lists_shows_and_raises_escalations(client: TestClient, database_url: str) -> None:
    rid = _create(client)
    runner = CliRunner()

    def cli(*args: str) -> Any:
        return runner.invoke(main, ["--database-url", database_url, *args])

    # The default report is a P4 (router fault): its matrix row at level 1 tells service-desk-leads.
    raised = cli("escalation", "raise", rid, "1", "--reason", "VIP customer", "--actor", "noc-3")
    assert raised.exit_code == 0, raised.output
    assert f"{rid} escalated to level 1; 1 notification(s)" in raised.output
    listed = cli("escalation", "list", "--level", "1")
    assert rid in listed.output and "1 of 1 escalated open report(s)" in listed.output
    assert "0 of 0" in cli("escalation", "list", "--level", "2").output
    shown = cli("escalation", "show", rid)
    assert "L1 manual" in shown.output and "service-desk-leads@operator.example" in shown.output
    refused = cli("escalation", "raise", rid, "1", "--reason", "again")
    assert refused.exit_code == 1 and "never lowers" in refused.output
    pending = cli("notification", "list", "--state", "pending")
    assert "service-desk-leads@operator.example" in pending.output
    none_parked = cli("notification", "replay", "--all")
    assert none_parked.exit_code == 0 and "0 notification(s) replayed" in none_parked.output
    missing = cli("notification", "replay", "999")
    assert missing.exit_code == 1 and "not parked" in missing.output
