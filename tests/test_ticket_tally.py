"""The ticket tally answers X-Total-Count for filters on status, severity, priority and ticket type; it
must always equal a real count, through creates, moves, edits, deletes, seeding and folding."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.domain.query import Condition, Op, Query
from troubleflow.domain.status import Status
from troubleflow.processes import reports
from troubleflow.processes.seed import seed_reports
from troubleflow.storage import tally, tickets
from troubleflow.storage.db import Database
from troubleflow.storage.tables import ticket_tally, trouble_ticket
from troubleflow.storage.ticket_query import where_clause
from troubleflow.worker import Worker

from .conftest import api, ticket_body

FILTERS: list[tuple[Condition, ...]] = [
    (),
    (Condition(("status",), Op.EQ, ("inProgress",)),),
    (Condition(("status",), Op.EQ, ("inProgress",)), Condition(("severity",), Op.EQ, ("Major",))),
    (Condition(("status",), Op.NE, ("closed", "cancelled")),),
    (Condition(("priority",), Op.EQ, ("High", "Low")), Condition(("ticket_type",), Op.EQ, ("incident",))),
    (Condition(("severity",), Op.REGEX, ("^M",)),),
]


def _assert_counts_match(db: Database) -> None:
    with db.read() as conn:
        for conds in FILTERS:
            query = Query(conditions=conds, limit=1)
            _rows, total = tickets.find(conn, query)
            real = conn.execute(
                select(func.count()).select_from(trouble_ticket).where(where_clause(conds, conn.dialect.name))
            ).scalar_one()
            assert total == real, conds


def test_every_filter_on_tallied_columns_is_counted_by_the_tally() -> None:
    assert all(tally.can_count(c) for c in FILTERS)
    assert not tally.can_count((Condition(("name",), Op.EQ, ("x",)),))
    assert not tally.can_count((Condition(("relatedParty", "id"), Op.EQ, ("x",)),))


def test_tally_equals_a_real_count_through_creates_moves_edits_and_deletes(
    db: Database, clock: FixedClock, client: TestClient
) -> None:
    ids = []
    for severity, priority in itertools.product(("Major", "Minor", "Critical"), ("High", "Low")):
        r = client.request(
            "POST", api("v4") + "/troubleTicket", json=ticket_body(severity=severity, priority=priority)
        )
        ids.append(r.json()["id"])
    _assert_counts_match(db)
    for ticket_id in ids[:4]:
        client.request("PATCH", api("v4") + f"/troubleTicket/{ticket_id}", json={"status": "inProgress"})
    client.request(
        "PATCH", api("v4") + f"/troubleTicket/{ids[0]}", json={"severity": "Minor", "priority": "Low"}
    )
    client.request(
        "PATCH", api("v4") + f"/troubleTicket/{ids[1]}", json={"description": "only the text changes"}
    )
    client.request("DELETE", api("v4") + f"/troubleTicket/{ids[5]}")
    _assert_counts_match(db)
    r = client.request("GET", api("v4") + "/troubleTicket?status=inProgress&severity=Major&limit=1")
    assert r.headers["X-Total-Count"] == "1"  # ids[0] left Major; ids[1] and ids[2]: one Major, one Minor


def test_tally_follows_bulk_seeding_and_timer_firing(
    db: Database, settings: Settings, clock: FixedClock
) -> None:
    seed_reports(db, 3000, batch=700, open_only=True, due_timers=200, now=clock.now())
    _assert_counts_match(db)
    worker = Worker(db, settings, clock=clock)
    while worker.run_once().fired:
        pass
    _assert_counts_match(db)


def test_folding_keeps_one_row_per_key_and_every_count(db: Database, clock: FixedClock) -> None:
    for i in range(30):
        reports.create_report(
            db,
            {"description": f"r{i}", "severity": ("Major", "Minor")[i % 2], "ticket_type": "incident"},
            clock=clock,
            actor="agent",
        )
    with db.begin() as conn:
        folded = tally.fold(conn)
    assert folded == 30
    with db.read() as conn:
        keys = conn.execute(select(func.count()).select_from(ticket_tally)).scalar_one()
    assert keys == 2
    _assert_counts_match(db)


def test_a_move_and_its_revert_net_to_nothing_after_folding(db: Database, clock: FixedClock) -> None:
    ticket_id = reports.create_report(
        db, {"description": "x", "severity": "Major", "ticket_type": "incident"}, clock=clock, actor="a"
    ).ticket.id
    for status in (Status.IN_PROGRESS, Status.HELD, Status.IN_PROGRESS):
        reports.change_report(db, ticket_id, lambda _, s=status: {"status": s}, clock=clock, actor="a")
    with db.begin() as conn:
        tally.fold(conn)
    with db.read() as conn:
        rows = conn.execute(select(ticket_tally.c.status, ticket_tally.c.n)).all()
    assert [(r.status, r.n) for r in rows] == [("inProgress", 1)]  # zero-sum keys are dropped
