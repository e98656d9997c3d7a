"""The full TMF621 lifecycle through the HTTP API on v4 and v5, with history and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import api, finish_work_plan, ticket_body
from troubleflow.processes.reports import report_history
from troubleflow.storage.db import Database

VERSIONS = ["v4", "v5"]
HISTORY_KEY = {"v4": "statusChange", "v5": "statusChangeHistory"}
DATE_KEY = {"v4": "changeDate", "v5": "statusChangeDate"}
REASON_KEY = {"v4": "changeReason", "v5": "statusChangeReason"}
MERGE = {"Content-Type": "application/merge-patch+json"}


def create(client: TestClient, version: str, **overrides: Any) -> dict[str, Any]:
    response = client.post(f"{api(version)}/troubleTicket", json=ticket_body(version, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


# What clients did (Track & Manage adds its own entries: diagnosis, commitment, End...).
CLIENT_ACTIONS = frozenset({"created", "statusChanged", "changed", "deleted"})


def move(client: TestClient, version: str, ticket_id: str, status: str, reason: str | None = None) -> Any:
    body: dict[str, Any] = {"status": status}
    if status == "cancelled" and reason is None:
        reason = "duplicate"  # Cancel Customer Problem needs a reason code (1.3.7.3.2)
    if status == "resolved" and reason is None:
        reason = "line card swapped"  # clearing needs a resolution (policy close.require_resolution)
    if status == "closed":
        body["rootCause"] = "faulty line card"  # closing needs a root cause (Validate, 1.3.7.4.2)
    if reason:
        body["statusChangeReason"] = reason
    return client.patch(f"{api(version)}/troubleTicket/{ticket_id}", json=body, headers=MERGE)


@pytest.mark.parametrize("version", VERSIONS)
def test_full_lifecycle_records_every_status_with_date_and_reason(client: TestClient, version: str) -> None:
    ticket = create(client, version)
    path = [
        ("inProgress", "work started"),
        ("pending", "need modem serial"),
        ("inProgress", "serial given"),
        ("held", "waiting for spare part"),
        ("inProgress", "part arrived"),
        ("resolved", "line card swapped"),
        ("inProgress", "customer says still down"),
        ("resolved", "port reset"),
        ("closed", "customer confirmed"),
    ]

    for status, reason in path:
        if status == "resolved":
            finish_work_plan(client, ticket["id"])  # no clearing with mandatory tasks open (1.3.7.3.1)
        response = move(client, version, ticket["id"], status, reason)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status

    final = client.get(f"{api(version)}/troubleTicket/{ticket['id']}").json()
    history = final[HISTORY_KEY[version]]
    assert [h["status"] for h in history] == ["acknowledged", *[s for s, _ in path]]
    assert [h.get(REASON_KEY[version]) for h in history[1:]] == [r for _, r in path]
    assert all(DATE_KEY[version] in h for h in history)
    assert final["statusChangeReason"] == "customer confirmed"
    assert final["statusChangeDate"] == history[-1][DATE_KEY[version]]
    assert "resolutionDate" in final


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("start", "target"),
    [
        ([], "closed"),
        ([], "resolved"),
        ([], "held"),
        (["inProgress", "resolved", "closed"], "inProgress"),
        (["cancelled"], "inProgress"),
        (["rejected"], "acknowledged"),
        (["inProgress", "held"], "resolved"),
    ],
)
def test_illegal_transition_is_refused_with_409_and_changes_nothing(
    client: TestClient, version: str, start: list[str], target: str
) -> None:
    ticket = create(client, version)
    for status in start:
        if status == "resolved":
            finish_work_plan(client, ticket["id"])
        assert move(client, version, ticket["id"], status).status_code == 200
    before = client.get(f"{api(version)}/troubleTicket/{ticket['id']}")

    response = move(client, version, ticket["id"], target, "try")

    assert response.status_code == 409
    error = response.json()
    assert error["@type"] == "Error" and error["status"] == "409" and error["code"] and error["reason"]
    assert target in error["message"]
    after = client.get(f"{api(version)}/troubleTicket/{ticket['id']}")
    assert after.json() == before.json()
    assert after.headers["ETag"] == before.headers["ETag"]


def test_both_versions_show_the_same_ticket(client: TestClient) -> None:
    ticket = create(client, "v4")
    move(client, "v4", ticket["id"], "inProgress", "started")

    v5 = client.get(f"{api('v5')}/troubleTicket/{ticket['id']}").json()

    assert v5["status"] == "inProgress"
    assert v5["relatedParty"][0]["partyOrPartyRole"]["id"] == "cust-42"
    assert v5["relatedEntity"][0]["entity"]["id"] == "prod-9"
    assert [h["status"] for h in v5["statusChangeHistory"]] == ["acknowledged", "inProgress"]


def test_v5_external_identifier_is_the_v4_external_id(client: TestClient) -> None:
    ticket = create(client, "v5")

    v4 = client.get(f"{api('v4')}/troubleTicket/{ticket['id']}").json()

    assert v4["externalId"] == "CRM-1001"


def test_audit_trail_names_the_etom_process_actor_and_reason(client: TestClient, db: Database) -> None:
    ticket = create(client, "v4")
    headers = {**MERGE, "X-Troubleflow-Actor": "noc-engineer-3"}
    client.patch(f"{api('v4')}/troubleTicket/{ticket['id']}", json={"status": "inProgress"}, headers=headers)
    client.patch(f"{api('v4')}/troubleTicket/{ticket['id']}", json={"priority": "Critical"}, headers=headers)
    client.patch(
        f"{api('v4')}/troubleTicket/{ticket['id']}",
        json={"status": "cancelled", "statusChangeReason": "duplicate report"},
        headers=headers,
    )

    trail = [h for h in report_history(db, ticket["id"]) if h.action in CLIENT_ACTIONS]

    assert [(h.process_id, h.action, h.new_status) for h in trail] == [
        ("1.3.7.5.1", "created", "acknowledged"),
        ("1.3.7.3.1", "statusChanged", "inProgress"),
        ("1.3.7.3.1", "changed", None),
        ("1.3.7.3.2", "statusChanged", "cancelled"),
    ]
    assert trail[2].fields == ("priority",)
    assert trail[3].reason == "duplicate report"
    assert {h.actor for h in trail[1:]} == {"noc-engineer-3"}


def test_resolved_and_closed_are_recorded_by_track_and_manage_and_close(
    client: TestClient, db: Database
) -> None:
    ticket = create(client, "v4")
    for status in ("inProgress", "resolved", "closed"):
        if status == "resolved":
            finish_work_plan(client, ticket["id"])
        move(client, "v4", ticket["id"], status)

    trail = [h for h in report_history(db, ticket["id"]) if h.action == "statusChanged"]

    assert [h.process_id for h in trail[-2:]] == ["1.3.7.3", "1.3.7.4"]


def test_deleted_ticket_is_gone_but_its_audit_trail_stays(client: TestClient, db: Database) -> None:
    ticket = create(client, "v5")

    assert client.delete(f"{api('v5')}/troubleTicket/{ticket['id']}").status_code == 204

    assert client.get(f"{api('v5')}/troubleTicket/{ticket['id']}").status_code == 404
    trail = [h.action for h in report_history(db, ticket["id"])]
    assert trail[0] == "created" and trail[-1] == "deleted"


@pytest.mark.parametrize("version", VERSIONS)
def test_a_listed_ticket_shows_its_latest_version_and_matches_get(client: TestClient, version: str) -> None:
    ticket = create(client, version)
    listed = client.get(f"{api(version)}/troubleTicket").json()  # renders (and caches) version 1
    assert listed[0]["status"] == "acknowledged"
    assert move(client, version, ticket["id"], "inProgress", "work started").status_code == 200

    listed = client.get(f"{api(version)}/troubleTicket").json()
    one = client.get(f"{api(version)}/troubleTicket/{ticket['id']}").json()
    assert listed[0]["status"] == "inProgress"
    assert listed == [one]
