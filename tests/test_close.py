"""Close Customer Problem Report (1.3.7.4) through the public API and the worker with the fixed clock
(Monday 2026-03-02 09:00 UTC) and the default policy (close rules: root cause, resolution and restoration
time required; satisfaction survey on; auto-close after P5D)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.processes.reports import report_history
from troubleflow.storage import timers
from troubleflow.storage.db import Database
from troubleflow.storage.tables import outbox as outbox_table
from troubleflow.worker import Worker

from .conftest import api, finish_work_plan, ticket_body

MERGE = {"Content-Type": "application/merge-patch+json"}
CLOSE_API = "/tmf-api/troubleflow/v1"
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def _create(client: TestClient, version: str = "v4", **overrides: Any) -> dict[str, Any]:
    r = client.post(f"{api(version)}/troubleTicket", json=ticket_body(version, **overrides))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _patch(client: TestClient, rid: str, body: dict[str, Any], version: str = "v4") -> Any:
    return client.patch(f"{api(version)}/troubleTicket/{rid}", json=body, headers=MERGE)


def _get(client: TestClient, rid: str, version: str = "v4") -> dict[str, Any]:
    return client.get(f"{api(version)}/troubleTicket/{rid}").json()  # type: ignore[no-any-return]


def _cleared(client: TestClient, clock: FixedClock, *, after: timedelta = HOUR, **extra: Any) -> str:
    """A report worked and cleared `after` its creation, with a resolution."""
    rid = str(_create(client)["id"])
    assert _patch(client, rid, {"status": "inProgress"}).status_code == 200
    clock.advance(after)
    finish_work_plan(client, rid)
    body = {"status": "resolved", "statusChangeReason": "line card replaced", **extra}
    r = _patch(client, rid, body)
    assert r.status_code == 200, r.text
    return rid


def _confirm(client: TestClient, rid: str, **body: Any) -> Any:
    return client.post(f"{CLOSE_API}/troubleTicket/{rid}/customerConfirmation", json=body)


def _trail(db: Database, rid: str) -> list[tuple[str, str]]:
    return [(h.process_id, h.action) for h in report_history(db, rid)]


def _timers(db: Database, rid: str, kind: str) -> list[str]:
    with db.read() as conn:
        return [t["state"] for t in timers.for_ticket(conn, rid) if t["kind"] == kind]


def _events(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(outbox_table)).scalar_one())


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --------------------------------------------------------------------------- validation (1.3.7.4.2)


def test_clearing_without_a_resolution_is_refused(client: TestClient) -> None:
    rid = str(_create(client)["id"])
    assert _patch(client, rid, {"status": "inProgress"}).status_code == 200
    finish_work_plan(client, rid)

    r = _patch(client, rid, {"status": "resolved"})

    assert r.status_code == 400 and "resolution" in r.json()["message"]
    assert _get(client, rid)["status"] == "inProgress"
    given = _patch(client, rid, {"status": "resolved", "resolution": "replaced the line card"})
    assert given.status_code == 200 and given.json()["resolution"] == "replaced the line card"


def test_close_without_root_cause_is_refused_and_changes_nothing(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    rid = _cleared(client, clock)
    before, trail, events = _get(client, rid), _trail(db, rid), _events(db)

    r = _patch(client, rid, {"status": "closed"})

    assert r.status_code == 400
    assert r.json()["message"].startswith("the report cannot close: rootCause missing")
    assert _get(client, rid) == before and _trail(db, rid) == trail and _events(db) == events


def test_close_with_root_cause_is_validated_finalized_and_closed_by_agent(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    rid = _cleared(client, clock, after=2 * HOUR)
    clock.advance(HOUR)

    r = _patch(client, rid, {"status": "closed", "rootCause": "water in the street cabinet"})

    assert r.status_code == 200, r.text
    closed = r.json()
    assert (closed["status"], closed["closureMethod"]) == ("closed", "closedByAgent")
    assert closed["rootCause"] == "water in the street cabinet"
    assert closed["resolutionDate"] == "2026-03-02T11:00:00.000Z"  # the restoration time: when cleared
    assert _trail(db, rid)[-4:] == [
        ("1.3.7.4", "statusChanged"),
        ("1.3.7.4.2", "validated"),
        ("1.3.7.4.3", "restorationTimeRecorded"),
        ("1.3.7.4.4", "finalized"),
    ]
    restored = next(h for h in report_history(db, rid) if h.action == "restorationTimeRecorded")
    assert restored.reason == "restored at 2026-03-02T11:00:00+00:00, 2:00:00 after the report"
    assert _timers(db, rid, "autoClose") == ["cancelled"]


def test_closing_needs_the_restoration_time(client: TestClient, clock: FixedClock) -> None:
    rid = _cleared(client, clock, rootCause="cabinet flooded")

    r = _patch(client, rid, {"status": "closed", "resolutionDate": None})

    assert r.status_code == 400 and "resolutionDate missing" in r.json()["message"]


def test_root_cause_must_be_text(client: TestClient, clock: FixedClock) -> None:
    rid = _cleared(client, clock)

    r = _patch(client, rid, {"rootCause": 42})

    assert r.status_code == 400 and "rootCause" in r.json()["message"]


# --------------------------------------------------------------------------- Contact Customer (1.3.7.4.1)


def test_clearing_asks_the_customer_and_arms_the_auto_close(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    rid = _cleared(client, clock)

    report = _get(client, rid, "v5")
    assert report["customerConfirmation"] == {
        "state": "requested",
        "requestedDate": "2026-03-02T10:00:00.000Z",
    }
    assert report["reopenCount"] == 0
    assert _trail(db, rid)[-2:] == [("1.3.7.4.1", "customerContacted"), ("1.3.7.4", "autoCloseArmed")]
    with db.read() as conn:
        armed = [t for t in timers.for_ticket(conn, rid) if t["state"] == "armed"]
    assert [(t["kind"], t["due_at"]) for t in armed] == [("autoClose", _iso("2026-03-07T10:00:00Z"))]


def test_customer_confirms_the_fix_and_the_report_closes_with_the_score(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    rid = _cleared(client, clock, rootCause="corroded connector")
    clock.advance(DAY)

    r = _confirm(client, rid, fixed=True, score=4, comment="quick and friendly")

    assert r.status_code == 201, r.text
    assert r.json()["troubleTicket"]["status"] == "closed"
    report = _get(client, rid, "v5")
    assert (report["status"], report["closureMethod"]) == ("closed", "confirmed")
    assert report["customerConfirmation"] == {"state": "confirmed"}
    assert report["satisfaction"] == {
        "fixed": True,
        "answeredDate": "2026-03-03T10:00:00.000Z",
        "score": 4,
        "comment": "quick and friendly",
    }
    assert ("1.3.7.4.1", "customerAnswered") in _trail(db, rid)
    assert _timers(db, rid, "autoClose") == ["cancelled"]


def test_customer_confirmation_still_needs_the_root_cause(client: TestClient, clock: FixedClock) -> None:
    rid = _cleared(client, clock)

    r = _confirm(client, rid, fixed=True, score=5)

    assert r.status_code == 400 and "rootCause" in r.json()["message"]
    assert _get(client, rid)["status"] == "resolved"


def test_customer_says_not_fixed_reopens_and_the_sla_clock_resumes(
    client: TestClient, db: Database, settings: Settings, clock: FixedClock
) -> None:
    rid = _cleared(client, clock)  # cleared at 10:00
    commitment = _iso(_get(client, rid)["restorationCommitment"])
    clock.advance(2 * HOUR)  # 12:00: two working hours stood cleared

    r = _confirm(client, rid, fixed=False, score=2, comment="still no sync")

    assert r.status_code == 201, r.text
    report = _get(client, rid)
    assert (report["status"], report["reopenCount"]) == ("inProgress", 1)
    assert report["customerConfirmation"] == {"state": "notFixed"}
    assert report["slaClock"]["state"] == "running"
    assert report["slaClock"]["stops"][-1] == {
        "status": "resolved",
        "start": "2026-03-02T10:00:00.000Z",
        "end": "2026-03-02T12:00:00.000Z",
    }
    assert _iso(report["restorationCommitment"]) == commitment + 2 * HOUR  # resumes where it stopped
    assert "resolutionDate" not in report
    trail = _trail(db, rid)
    assert trail.index(("1.3.7.3.4", "clockRestarted")) > trail.index(("1.3.7.4", "autoCloseArmed"))
    assert trail[-2:] == [("1.3.7.4.1", "customerAnswered"), ("1.3.7.4.1", "reopened")]
    assert _timers(db, rid, "autoClose") == ["cancelled"]
    assert _timers(db, rid, "jeopardy")[-1] == "armed"  # jeopardy timers re-armed
    assert _timers(db, rid, "progress")[-1] == "armed"  # progress updates resume

    worker = Worker(db, settings, clock=clock)
    clock.advance(commitment + 2 * HOUR - clock.now() - timedelta(minutes=1))  # before the moved breach
    while worker.run_once().fired:
        pass
    assert _get(client, rid)["jeopardy"]["threshold"] < 100
    clock.advance(timedelta(minutes=1))  # the breach instant, moved out by the two hours cleared
    while worker.run_once().fired:
        pass
    assert _get(client, rid)["jeopardy"]["threshold"] == 100


def test_a_reopened_report_cleared_again_counts_each_reopen(client: TestClient, clock: FixedClock) -> None:
    rid = _cleared(client, clock)
    assert _confirm(client, rid, fixed=False).status_code == 201
    finish_work_plan(client, rid)
    assert _patch(client, rid, {"status": "resolved", "statusChangeReason": "port reset"}).status_code == 200
    assert _get(client, rid)["customerConfirmation"]["state"] == "requested"
    assert _patch(client, rid, {"status": "inProgress"}).status_code == 200  # an agent reopens too

    assert _get(client, rid)["reopenCount"] == 2


def test_an_answer_on_a_report_not_cleared_is_refused_with_409(client: TestClient) -> None:
    rid = str(_create(client)["id"])

    r = _confirm(client, rid, fixed=True)

    assert r.status_code == 409 and "only a cleared (resolved) report" in r.json()["message"]


def test_a_score_outside_1_to_5_is_refused(client: TestClient, clock: FixedClock) -> None:
    rid = _cleared(client, clock, rootCause="x")

    assert _confirm(client, rid, fixed=True, score=6).status_code == 400
    assert _confirm(client, rid, score=3).status_code == 400  # `fixed` is mandatory
    assert _get(client, rid)["status"] == "resolved"


# --------------------------------------------------------------------------- auto-close


def test_auto_close_fires_once_after_the_policy_delay(
    client: TestClient, db: Database, settings: Settings, clock: FixedClock
) -> None:
    worker = Worker(db, settings, clock=clock)
    rid = _cleared(client, clock, rootCause="corroded connector")

    clock.advance(5 * DAY - timedelta(minutes=1))
    assert worker.run_once().fired == 0 and _get(client, rid)["status"] == "resolved"
    clock.advance(timedelta(minutes=1))
    assert worker.run_once().fired == 1
    assert worker.run_once().fired == 0

    report = _get(client, rid)
    assert (report["status"], report["closureMethod"]) == ("closed", "autoClosed")
    assert report["customerConfirmation"]["state"] == "noResponse"
    assert report["statusChangeReason"] == "closed without a customer answer"
    closes = [h for h in report_history(db, rid) if h.new_status == "closed"]
    assert [(h.process_id, h.actor) for h in closes] == [("1.3.7.4", "timer")]
    assert _trail(db, rid)[-3:] == [
        ("1.3.7.4.2", "validated"),
        ("1.3.7.4.3", "restorationTimeRecorded"),
        ("1.3.7.4.4", "finalized"),
    ]


def test_auto_close_does_not_fire_after_an_answer(
    client: TestClient, db: Database, settings: Settings, clock: FixedClock
) -> None:
    rid = _cleared(client, clock, rootCause="corroded connector")
    assert _confirm(client, rid, fixed=True, score=5).status_code == 201

    clock.advance(6 * DAY)

    assert Worker(db, settings, clock=clock).run_once().fired == 0
    assert _get(client, rid)["closureMethod"] == "confirmed"


def test_auto_close_without_root_cause_is_blocked_and_recorded(
    client: TestClient, db: Database, settings: Settings, clock: FixedClock
) -> None:
    worker = Worker(db, settings, clock=clock)
    rid = _cleared(client, clock)
    version = client.get(f"{api('v4')}/troubleTicket/{rid}").headers["ETag"]

    clock.advance(5 * DAY)
    assert worker.run_once().fired == 1
    assert worker.run_once().fired == 0

    assert _get(client, rid)["status"] == "resolved"
    assert client.get(f"{api('v4')}/troubleTicket/{rid}").headers["ETag"] == version
    blocked = [h for h in report_history(db, rid) if h.action == "autoCloseBlocked"]
    assert [(h.process_id, h.reason) for h in blocked] == [
        ("1.3.7.4", "missing rootCause; the report stays resolved until an agent closes it")
    ]


# --------------------------------------------------------------------------- improvement, server-owned


def test_improvement_opportunity_is_recorded_append_only(client: TestClient, db: Database) -> None:
    rid = str(_create(client)["id"])
    url = f"{CLOSE_API}/troubleTicket/{rid}/improvementOpportunity"

    first = client.post(url, json={"text": "label street cabinets"}, headers={"X-Troubleflow-Actor": "qa-1"})
    second = client.post(url, json={"text": "seal cabinet doors"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["author"] == "qa-1" and first.json()["id"] == "1"
    listed = _get(client, rid, "v5")["improvementOpportunity"]
    assert [(i["id"], i["text"], i["author"]) for i in listed] == [
        ("1", "label street cabinets", "qa-1"),
        ("2", "seal cabinet doors", "api"),
    ]
    assert _trail(db, rid).count(("1.3.7.4.5", "improvementRecorded")) == 2
    assert client.post(url, json={"text": ""}).status_code == 400


def test_closure_attributes_are_server_owned(client: TestClient, clock: FixedClock) -> None:
    rid = _cleared(client, clock)

    for body in (
        {"reopenCount": 5},
        {"closureMethod": "confirmed"},
        {"customerConfirmation": {"state": "confirmed"}},
        {"improvementOpportunity": [{"text": "x"}]},
        {"satisfaction": {"score": 5}},
    ):
        r = _patch(client, rid, body, "v5")
        assert r.status_code == 400 and "not patchable" in r.json()["message"], body
    assert _get(client, rid)["status"] == "resolved"


# --------------------------------------------------------------------------- restoration metrics


def test_cancelled_reports_are_excluded_from_the_restoration_metrics(
    client: TestClient, clock: FixedClock
) -> None:
    a = _cleared(client, clock, after=2 * HOUR, rootCause="fibre cut")
    assert _confirm(client, a, fixed=True, score=5).status_code == 201
    b = _cleared(client, clock, after=4 * HOUR)
    assert _confirm(client, b, fixed=False, score=2).status_code == 201
    finish_work_plan(client, b)
    assert _patch(client, b, {"status": "resolved", "statusChangeReason": "port reset"}).status_code == 200
    cancelled = str(_create(client)["id"])
    clock.advance(30 * DAY)  # long-lived, then cancelled: would dominate an MTTR that counted it
    assert (
        _patch(client, cancelled, {"status": "cancelled", "statusChangeReason": "duplicate"}).status_code
        == 200
    )
    _create(client)  # still open: not restored

    figures = client.get(f"{CLOSE_API}/restorationMetrics").json()

    assert figures["restored"] == 2 and figures["cancelledExcluded"] == 1
    assert figures["meanTimeToRestoreSeconds"] == 3 * 3600  # (2 h + 4 h) / 2
    assert (figures["reopened"], figures["reopenRate"]) == (1, 0.5)
    assert (figures["satisfactionAnswers"], figures["meanSatisfaction"]) == (2, 3.5)
    assert figures["closedBy"] == {"confirmed": 1}
