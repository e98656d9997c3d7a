"""Track & Manage timers are durable: armed by a create, they fire exactly once each across a worker
restart (a new process: new engine, nothing in memory), nothing fires after the report is cleared, and
two workers firing 10,000 due jeopardy timers of reports under Track & Manage fire and escalate each once
(Monitor Customer Problem Jeopardy Status 1.3.7.3.4, Escalate Customer Problem 1.3.7.3.3)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.domain.policy import active_policy
from troubleflow.policy_files import load_policies
from troubleflow.processes.reports import report_history
from troubleflow.processes.seed import seed_reports
from troubleflow.storage import timers as timer_rows
from troubleflow.storage.db import Database
from troubleflow.storage.tables import ticket_history, timer
from troubleflow.worker import Worker

from .conftest import api, finish_work_plan, ticket_body
from .running import fire_with_workers

MERGE = {"Content-Type": "application/merge-patch+json"}
HOUR = timedelta(hours=1)


def _outage(client: TestClient) -> dict[str, Any]:
    """A P1 on the 24x7 gold SLA: 4 h to restore, jeopardy at 50/75/90/100 % = 11:00, 12:00, 12:36, 13:00."""
    body = ticket_body("v4", severity="Critical", priority="Critical", slaClass="gold")
    r = client.post(api("v4") + "/troubleTicket", json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _drain(worker: Worker) -> int:
    fired = 0
    while n := worker.run_once().fired:
        fired += n
    return fired


def test_track_and_manage_timers_fire_once_across_a_worker_restart_and_never_after_clearing(
    client: TestClient, db: Database, database_url: str, settings: Settings, clock: FixedClock
) -> None:
    rid = _outage(client)["id"]
    first = Worker(db, settings, clock=clock)
    assert first.run_once().fired == 0  # armed, nothing due yet
    first.close()  # the worker stops between arming and firing

    clock.advance(3 * HOUR + 5 * 60 * timedelta(seconds=1))  # 12:05: 50 % and 75 % have passed
    restarted_db = Database.from_url(database_url)  # a new process: new engine, nothing in memory
    try:
        restarted = Worker(restarted_db, settings, clock=clock)
        assert _drain(restarted) >= 2
        assert _drain(restarted) == 0  # exactly once
        restarted.close()
    finally:
        restarted_db.dispose()
    trail = report_history(db, rid)
    assert Counter(e.reason for e in trail if e.action == "jeopardy").most_common(1)[0][1] == 1
    assert [e.action for e in trail].count("jeopardy") == 2  # 50 % and 75 %, once each
    assert client.get(f"{api('v4')}/troubleTicket/{rid}").json()["jeopardy"]["threshold"] == 75

    finish_work_plan(client, rid)
    cleared = {"status": "resolved", "statusChangeReason": "line card replaced"}
    assert client.patch(f"{api('v4')}/troubleTicket/{rid}", json=cleared, headers=MERGE).status_code == 200
    clock.advance(48 * HOUR)  # 90 %, the breach and any progress update would all be due by now
    again = Worker(db, settings, clock=clock)
    assert _drain(again) == 0
    again.close()
    with db.read() as conn:
        armed = {t["kind"] for t in timer_rows.for_ticket(conn, rid) if t["state"] == "armed"}
    assert armed == {"autoClose"}  # Close's own timer (1.3.7.4): no jeopardy or progress timer is left
    assert [e.action for e in report_history(db, rid)].count("jeopardy") == 2


def test_two_workers_fire_10000_track_and_manage_timers_exactly_once_and_escalate_once(
    db: Database, database_url: str, settings: Settings, clock: FixedClock
) -> None:
    policy = active_policy(load_policies(), clock.now())
    seed_reports(db, 10_000, open_only=True, due_timers=10_000, now=clock.now(), policy=policy)
    assert fire_with_workers(database_url, settings, clock) == []
    with db.read() as conn:
        states = Counter(conn.execute(select(timer.c.state)).scalars())
        per_report = Counter(
            conn.execute(
                select(ticket_history.c.ticket_id).where(ticket_history.c.action == "jeopardy")
            ).scalars()
        )
        escalated = Counter(
            conn.execute(
                select(ticket_history.c.ticket_id).where(ticket_history.c.action == "escalated")
            ).scalars()
        )
    assert states["fired"] == 10_000
    assert len(per_report) == 10_000 and set(per_report.values()) == {1}
    # Each firing armed the next threshold (90 %) once, for every report, and nothing else is due.
    assert states["armed"] == 10_000 and set(states) == {"fired", "armed"}
    # The 75 % step of the matrix escalates P1 and P2 reports, each once; P3/P4 have no 75 % step.
    assert escalated and set(escalated.values()) == {1}
