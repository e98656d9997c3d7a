"""Track & Manage Customer Problem (1.3.7.3) driven through the public API with the fixed clock and the
documented default policy: diagnosis, priority, restoration commitment on the SLA calendar, clock-stops,
jeopardy and escalation, cancel with a reason code, End."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.processes.reports import report_history
from troubleflow.storage.db import Database
from troubleflow.worker import Worker

from .conftest import api, ticket_body

MERGE = {"Content-Type": "application/merge-patch+json"}
MINUTE = timedelta(minutes=1)


def _create(client: TestClient, **overrides: Any) -> dict[str, Any]:
    r = client.post(api("v4") + "/troubleTicket", json=ticket_body("v4", **overrides))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _patch(client: TestClient, ticket_id: str, body: dict[str, Any]) -> Any:
    return client.patch(f"{api('v4')}/troubleTicket/{ticket_id}", json=body, headers=MERGE)


def _work(client: TestClient, ticket_id: str, task_id: str, state: str) -> Any:
    """Work a task of the report's plan (Coordinate Customer Problem, 1.3.7.3.1)."""
    url = f"/tmf-api/troubleflow/v1/troubleTicket/{ticket_id}/task/{task_id}"
    return client.patch(url, json={"state": state}, headers=MERGE)


def _get(client: TestClient, ticket_id: str) -> dict[str, Any]:
    return client.get(f"{api('v4')}/troubleTicket/{ticket_id}").json()  # type: ignore[no-any-return]


def _outage(client: TestClient) -> dict[str, Any]:
    """A P1 on the 24x7 gold SLA (4 h): the conftest clock starts Monday 2026-03-02 09:00 UTC."""
    return _create(
        client,
        slaClass="gold",
        severity="Critical",
        priority=None,
        description="Outage: all customers in the whole area lost internet",
    )


def test_a_new_report_is_diagnosed_prioritized_and_given_a_restoration_commitment(client: TestClient) -> None:
    report = _outage(client)

    assert report["category"] == "core-outage"  # rule core-outage: Critical + "outage"
    assert (report["impact"], report["urgency"]) == ("high", "high")
    assert report["priority"] == "P1"  # impact high x urgency high (1.3.7.3.5)
    assert report["slaClass"] == "gold"
    assert report["restorationCommitment"] == "2026-03-02T13:00:00.000Z"  # 09:00 + 4 h, 24x7
    assert report["expectedResolutionDate"] == report["restorationCommitment"]
    assert report["escalationLevel"] == 0
    assert report["diagnosis"]["rules"][0] == "core-outage"
    assert report["diagnosis"]["workgroup"] == "core-network"
    assert report["slaClock"] | {"stops": []} == {
        "state": "running",
        "started": "2026-03-02T09:00:00.000Z",
        "target": "PT4H",
        "policyVersion": "2026.1",
        "stops": [],
    }


def test_the_commitment_counts_only_the_sla_calendars_working_hours(client: TestClient) -> None:
    # Default SLA bronze (extended-de: Mon-Fri 07-20, Sat 08-16 Europe/Berlin), default impact and
    # urgency medium -> P3 -> 65 working hours. From Monday 10:00 CET: Mon 10 h, Tue-Fri 4 x 13 h = 62 h,
    # then 3 h on Saturday from 08:00 -> Saturday 11:00 CET = 10:00 UTC.
    report = _create(client, priority=None, description="Slow speeds in the evening")

    assert (report["slaClass"], report["priority"]) == ("bronze", "P3")
    assert report["restorationCommitment"] == "2026-03-07T10:00:00.000Z"


def test_the_full_story_from_creation_to_closing_is_traced_in_causal_order(
    client: TestClient, db: Database, settings: Settings, clock: FixedClock
) -> None:
    worker = Worker(db, settings, clock=clock)
    known = client.post(
        "/tmf-api/troubleflow/v1/knownError",
        json={
            "title": "Broadband outage in a whole area after a core router failover",
            "symptom": "Outage: customers of the area lost internet, broadband down",
            "category": "core-outage",
            "workaround": "Customers can switch to the mobile hotspot fallback until restoration.",
            "permanentFixStatus": "inProgress",
        },
    )
    assert known.status_code == 201, known.text
    report = _outage(client)
    rid = report["id"]
    assert report["knownError"]["id"] == known.json()["id"]  # Check Known Error: linked and offered
    assert any("mobile hotspot fallback" in n["text"] for n in report["note"])
    clock.advance(30 * MINUTE)
    assert _patch(client, rid, {"status": "inProgress"}).status_code == 200
    assert _work(client, rid, "1", "inProgress").status_code == 200  # isolate in the core network

    clock.advance(90 * MINUTE)  # 11:00: half of the 4 h used; the P1 progress update (every 30 min) due
    assert worker.run_once().fired == 2  # the progress update missed since 09:30 comes once, not thrice
    assert worker.run_once().fired == 0  # once
    assert (_get(client, rid)["jeopardy"]["threshold"], _get(client, rid)["escalationLevel"]) == (50, 1)

    clock.advance(30 * MINUTE)  # 11:30: isolated; waiting on the customer stops the clock
    assert _work(client, rid, "1", "done").status_code == 200
    stopped = _patch(client, rid, {"status": "pending", "statusChangeReason": "need site access"}).json()
    assert "restorationCommitment" not in stopped and stopped["slaClock"]["state"] == "stopped"
    clock.advance(120 * MINUTE)  # 13:30: the old 75 %, 90 % and breach instants pass while stopped
    assert worker.run_once().fired == 0  # and no progress update while the report waits on the customer

    restarted = _patch(client, rid, {"status": "inProgress"}).json()
    assert restarted["restorationCommitment"] == "2026-03-02T15:00:00.000Z"  # moved by the 2 h stopped
    assert restarted["slaClock"]["stops"] == [
        {"status": "pending", "start": "2026-03-02T11:30:00.000Z", "end": "2026-03-02T13:30:00.000Z"}
    ]
    clock.advance(30 * MINUTE)  # 14:00 = 75 % of 4 h plus the 2 h stopped, and a progress update
    assert worker.run_once().fired == 2
    assert (_get(client, rid)["jeopardy"]["threshold"], _get(client, rid)["escalationLevel"]) == (75, 2)
    steps = client.get(f"/tmf-api/troubleflow/v1/troubleTicket/{rid}/escalation").json()["step"]
    told = [(x["level"], n["channel"], n["address"]) for x in steps for n in x["notification"]]
    assert told == [  # each step tells its list's recipients once (one notification per recipient)
        (1, "email", "noc-duty@operator.example"),
        (1, "webhook", "https://chatops.operator.example/hooks/noc"),
        (2, "email", "duty-managers@operator.example"),
    ]

    clock.advance(10 * MINUTE)  # restored, reviewed: the mandatory tasks are done in sequence
    assert _work(client, rid, "2", "done").status_code == 200
    assert _work(client, rid, "3", "done").status_code == 200
    assert (
        _patch(client, rid, {"status": "resolved", "statusChangeReason": "line card replaced"}).status_code
        == 200
    )
    clock.advance(timedelta(hours=3))
    assert worker.run_once().fired == 0  # End stopped the 90 % and breach timers and the progress updates
    steps = client.get(f"/tmf-api/troubleflow/v1/troubleTicket/{rid}/escalation").json()["step"]
    assert len([n for x in steps for n in x["notification"]]) == 3  # nobody was told twice

    closed = _patch(
        client, rid, {"rootCause": "line card failure in the aggregation router", "status": "closed"}
    )
    assert closed.status_code == 200, closed.text  # Close validates root cause, resolution, restoration time
    assert closed.json()["status"] == "closed"

    trail = [(h.process_id, h.action) for h in report_history(db, rid)]
    assert trail == [
        ("1.3.7.5.1", "created"),
        ("1.3.7.5.2", "noInventoryMatch"),  # cust-42 / prod-9 are not in the (empty) customer inventory
        ("1.3.7.3", "trackingStarted"),
        ("1.3.7.1.5", "diagnosed"),
        ("1.3.7.3.5", "prioritized"),
        ("1.3.7.3.4", "restorationCommitted"),
        ("1.3.7.1.6", "knownErrorOffered"),  # Check Known Error: linked, workaround offered in a note
        *[("1.3.7.3.1", "taskPlanned")] * 3,
        ("1.3.7.3.1", "statusChanged"),
        ("1.3.7.3.1", "taskStarted"),
        ("1.3.7.2.4", "progressUpdate"),
        ("1.3.7.3.4", "jeopardy"),
        ("1.3.7.3.3", "escalated"),
        ("1.3.7.3.1", "taskDone"),
        ("1.3.7.3.1", "taskReady"),
        ("1.3.7.3.1", "statusChanged"),
        ("1.3.7.3.4", "clockStopped"),
        ("1.3.7.3.1", "statusChanged"),
        ("1.3.7.3.4", "clockRestarted"),
        ("1.3.7.3.4", "jeopardy"),
        ("1.3.7.3.3", "escalated"),
        ("1.3.7.2.4", "progressUpdate"),
        ("1.3.7.3.1", "taskDone"),
        ("1.3.7.3.1", "taskReady"),
        ("1.3.7.3.1", "taskDone"),
        ("1.3.7.3.1", "workPlanComplete"),
        ("1.3.7.3", "statusChanged"),
        ("1.3.7.3.3", "timersStopped"),
        ("1.3.7.3.3", "trackingEnded"),
        ("1.3.7.4.1", "customerContacted"),  # Close takes over: the customer is asked (docs/closure.md)
        ("1.3.7.4", "autoCloseArmed"),
        ("1.3.7.3.1", "changed"),  # the root cause recorded
        ("1.3.7.4", "statusChanged"),  # closed
        ("1.3.7.4.2", "validated"),
        ("1.3.7.4.3", "restorationTimeRecorded"),
        ("1.3.7.4.4", "finalized"),
    ]
    escalations = [h.reason for h in report_history(db, rid) if h.action == "escalated"]
    assert escalations == [
        "level 1 at 50 %: role shift-lead; notify noc-duty",
        "level 2 at 75 %: workgroup core-network, role duty-manager; notify duty-managers",
    ]


def test_escalation_never_lowers_and_a_step_at_the_same_level_notifies_nobody_again(
    client: TestClient, db: Database, settings: Settings, clock: FixedClock
) -> None:
    worker = Worker(db, settings, clock=clock)
    rid = _outage(client)["id"]
    clock.advance(timedelta(hours=3, minutes=36))  # 90 %: 50 % (level 1), 75 % (2), 90 % (2 again)
    while worker.run_once().fired:
        pass
    assert _get(client, rid)["escalationLevel"] == 2
    assert [h.reason for h in report_history(db, rid) if h.action == "escalated"] == [
        "level 1 at 50 %: role shift-lead; notify noc-duty",
        "level 2 at 75 %: workgroup core-network, role duty-manager; notify duty-managers",
    ]


def test_cancelling_without_a_reason_code_is_refused_and_changes_nothing(
    client: TestClient, db: Database
) -> None:
    rid = _outage(client)["id"]
    before = _get(client, rid)

    r = _patch(client, rid, {"status": "cancelled"})

    assert r.status_code == 400 and "reason" in r.json()["message"]
    assert _get(client, rid) == before
    ok = _patch(client, rid, {"status": "cancelled", "statusChangeReason": "duplicate of an open report"})
    assert ok.status_code == 200
    assert [h.action for h in report_history(db, rid)][-2:] == ["timersStopped", "trackingEnded"]


@pytest.mark.parametrize(
    ("attribute", "value"), [("impact", "low"), ("escalationLevel", 0), ("slaClass", "silver")]
)
def test_track_and_manage_attributes_cannot_be_patched(
    client: TestClient, attribute: str, value: Any
) -> None:
    rid = _outage(client)["id"]
    before = _get(client, rid)

    r = _patch(client, rid, {attribute: value if before[attribute] != value else "other"})

    assert r.status_code == 400 and attribute in r.json()["message"]
    assert _get(client, rid) == before


def test_an_unknown_sla_class_on_create_is_refused(client: TestClient) -> None:
    r = client.post(api("v4") + "/troubleTicket", json=ticket_body("v4", slaClass="platinum"))
    assert r.status_code == 400 and "platinum" in r.json()["message"]


def test_a_report_resolvable_at_first_contact_is_cleared_at_once_and_counted(
    client: TestClient, db: Database
) -> None:
    report = _create(client, priority=None, description="Customer forgot the wifi password")

    assert report["status"] == "resolved"
    assert report["diagnosis"]["firstContactResolution"].startswith("Customer guided")
    assert report["statusChangeReason"].startswith("resolved at first contact")
    assert [h.action for h in report_history(db, report["id"])][-4:] == [
        "timersStopped",
        "trackingEnded",
        "customerContacted",  # Close takes over (docs/closure.md)
        "autoCloseArmed",
    ]


def test_a_false_report_is_flagged_for_the_noc(client: TestClient) -> None:
    report = _create(client, description="test ticket from the CRM integration, please ignore")

    assert report["diagnosis"]["falseReport"] == "Test submission, not a customer problem"
    assert report["status"] == "acknowledged"  # flagged, not silently dropped: an engineer decides
