"""Durable timers: a due jeopardy timer fires exactly once, survives restarts, stops when the report is
cleared, and two workers never fire the same timer (Monitor Customer Problem Jeopardy Status, 1.3.7.3.4)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.domain import etom
from troubleflow.processes import reports, timers
from troubleflow.processes.jeopardy_timers import jeopardy_timer
from troubleflow.processes.seed import seed_reports
from troubleflow.storage import timers as timer_rows
from troubleflow.storage.db import Database
from troubleflow.storage.tables import ticket_history
from troubleflow.storage.tables import timer as timer_table
from troubleflow.worker import Worker

from .conftest import api, ticket_body
from .running import fire_with_workers

HOUR = timedelta(hours=1)


def _report(db: Database, clock: FixedClock) -> str:
    values = {"description": "no sync on DSL line", "severity": "Major", "ticket_type": "incident"}
    return reports.create_report(db, values, clock=clock, actor="agent").ticket.id


def _arm(db: Database, clock: FixedClock, ticket_id: str, after: timedelta, threshold: int = 75) -> None:
    timers.arm(db, [jeopardy_timer(ticket_id, clock.now() + after, threshold)], clock=clock)


def _jeopardy_entries(db: Database, ticket_id: str) -> list[str]:
    return [e.process_id for e in reports.report_history(db, ticket_id) if e.action == "jeopardy"]


def _move(db: Database, clock: FixedClock, ticket_id: str, status: str) -> None:
    from troubleflow.domain.status import Status

    reports.change_report(db, ticket_id, lambda _: {"status": Status(status)}, clock=clock, actor="agent")


def test_a_due_jeopardy_timer_fires_once_and_marks_the_report(
    db: Database, settings: Settings, clock: FixedClock, client: TestClient
) -> None:
    ticket_id = _report(db, clock)
    _arm(db, clock, ticket_id, 3 * HOUR)
    worker = Worker(db, settings, clock=clock)

    clock.advance(2 * HOUR)
    assert worker.run_once().fired == 0  # not due yet
    clock.advance(2 * HOUR)
    assert worker.run_once().fired == 1
    assert worker.run_once().fired == 0  # exactly once

    ticket = reports.get_report(db, ticket_id)
    assert ticket.jeopardy is not None and ticket.jeopardy.threshold == 75
    assert _jeopardy_entries(db, ticket_id) == [etom.MONITOR_JEOPARDY]
    for version in ("v4", "v5"):
        shown = client.get(f"{api(version)}/troubleTicket/{ticket_id}").json()
        assert shown["jeopardy"] == {"threshold": 75, "since": "2026-03-02T13:00:00.000Z"}


def test_timers_survive_a_worker_restart(
    db: Database, database_url: str, settings: Settings, clock: FixedClock
) -> None:
    ticket_id = _report(db, clock)
    _arm(db, clock, ticket_id, HOUR)
    first = Worker(db, settings, clock=clock)
    assert first.run_once().fired == 0
    first.close()

    clock.advance(2 * HOUR)
    restarted_db = Database.from_url(database_url)  # a new process: new engine, nothing in memory
    try:
        restarted = Worker(restarted_db, settings, clock=clock)
        assert restarted.run_once().fired == 1
        assert restarted.run_once().fired == 0
    finally:
        restarted_db.dispose()
    assert len(_jeopardy_entries(db, ticket_id)) == 1


@pytest.mark.parametrize("end_status", ["resolved", "cancelled"])
def test_nothing_fires_after_the_report_is_cleared_or_cancelled(
    db: Database, settings: Settings, clock: FixedClock, end_status: str
) -> None:
    ticket_id = _report(db, clock)
    _arm(db, clock, ticket_id, HOUR)
    _move(db, clock, ticket_id, "inProgress")
    _move(db, clock, ticket_id, end_status)

    clock.advance(2 * HOUR)
    assert Worker(db, settings, clock=clock).run_once().fired == 0
    assert reports.get_report(db, ticket_id).jeopardy is None
    with db.read() as conn:
        assert [t["state"] for t in timer_rows.for_ticket(conn, ticket_id)] == ["cancelled"]
    stopped = [e for e in reports.report_history(db, ticket_id) if e.action == "timersStopped"]
    assert [e.process_id for e in stopped] == [etom.ESCALATE_END]


def test_jeopardy_never_lowers(db: Database, settings: Settings, clock: FixedClock) -> None:
    ticket_id = _report(db, clock)
    _arm(db, clock, ticket_id, HOUR, threshold=90)
    _arm(db, clock, ticket_id, 2 * HOUR, threshold=75)
    clock.advance(3 * HOUR)
    assert Worker(db, settings, clock=clock).run_once().fired == 2
    ticket = reports.get_report(db, ticket_id)
    assert ticket.jeopardy is not None and ticket.jeopardy.threshold == 90
    assert len(_jeopardy_entries(db, ticket_id)) == 1


def test_a_client_cannot_set_jeopardy(client: TestClient) -> None:
    body = ticket_body("v4", jeopardy={"threshold": 100, "since": "2026-03-02T09:00:00Z"})
    created = client.post(f"{api('v4')}/troubleTicket", json=body)
    assert created.status_code == 201
    assert "jeopardy" not in created.json()
    patched = client.patch(
        f"{api('v4')}/troubleTicket/{created.json()['id']}",
        json={"jeopardy": {"threshold": 100}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 400
    assert "jeopardy" in patched.json()["message"]


def test_two_workers_fire_10000_due_timers_exactly_once(
    db: Database, database_url: str, settings: Settings, clock: FixedClock
) -> None:
    seed_reports(db, 10_000, open_only=True, due_timers=10_000, now=clock.now())
    assert fire_with_workers(database_url, settings, clock) == []
    with db.read() as conn:
        fired = Counter(conn.execute(select(timer_table.c.state)).scalars())
        jeopardy = Counter(
            conn.execute(
                select(ticket_history.c.ticket_id).where(ticket_history.c.action == "jeopardy")
            ).scalars()
        )
    assert fired == {"fired": 10_000}
    assert len(jeopardy) == 10_000 and set(jeopardy.values()) == {1}
