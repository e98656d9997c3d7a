"""Bulk loading of realistic synthetic reports (benchmarks, demos): `troubleflow db seed --tickets N`.

Tickets are built by the domain (`open_ticket`, `change_ticket`), so they obey every rule; they are
written in large batches with their audit-trail rows, without outbox events (a bulk load is a migration,
not news for subscribers).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from troubleflow.domain import etom
from troubleflow.domain.ids import new_id
from troubleflow.domain.jeopardy import WATCHED_STATUSES
from troubleflow.domain.status import Status, check_transition
from troubleflow.domain.ticket import Note, Ref, StatusChange, TroubleTicket, open_ticket
from troubleflow.processes.timers import jeopardy_timer
from troubleflow.storage import history, tally, tickets, timers
from troubleflow.storage.db import Database
from troubleflow.storage.history import HistoryEntry

_SEVERITIES: tuple[tuple[str, int], ...] = (("Critical", 3), ("Major", 17), ("Minor", 50), ("Warning", 30))
_PRIORITIES = ("Critical", "High", "Medium", "Low")
_TYPES: tuple[tuple[str, int], ...] = (
    ("incident", 70),
    ("complaint", 15),
    ("request", 10),
    ("Bill Dispute", 5),
)
# Where a report ends up, and the path it takes there (weights reflect a mature backlog).
_PATHS: tuple[tuple[tuple[Status, ...], int], ...] = (
    ((Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED), 60),
    ((Status.IN_PROGRESS, Status.RESOLVED), 8),
    ((Status.IN_PROGRESS,), 15),
    ((), 10),
    ((Status.IN_PROGRESS, Status.PENDING), 3),
    ((Status.IN_PROGRESS, Status.HELD), 2),
    ((Status.CANCELLED,), 2),
)
_OPEN_PATHS = tuple((p, w) for p, w in _PATHS if not p or p[-1] in WATCHED_STATUSES)
_SYMPTOMS = (
    "no sync on DSL line",
    "intermittent packet loss in the evening",
    "no dial tone",
    "slow speeds below contract",
    "IPTV pixelation",
    "mobile data not working abroad",
    "wrong charge on the last bill",
    "fibre ONT red LOS light",
    "VoIP one-way audio",
)


def synthetic_tickets(
    count: int, *, seed: int = 621, end: datetime | None = None, open_only: bool = False
) -> Iterator[TroubleTicket]:
    """`count` reports created over the year before `end`, each moved along a realistic path (with
    `open_only`, only along paths that leave it open: a backlog in flight)."""
    rng = random.Random(seed)
    end = end or datetime(2026, 11, 1, tzinfo=UTC)
    start = end - timedelta(days=365)
    step = (end - start) / max(count, 1)
    severities, severity_w = zip(*_SEVERITIES, strict=True)
    types, type_w = zip(*_TYPES, strict=True)
    paths, path_w = zip(*(_OPEN_PATHS if open_only else _PATHS), strict=True)
    for i in range(count):
        created = (start + step * i).replace(microsecond=0)
        customer = f"cust-{rng.randrange(200_000)}"
        values = {
            "name": rng.choice(_SYMPTOMS),
            "description": f"Customer reports {rng.choice(_SYMPTOMS)}",
            "severity": rng.choices(severities, severity_w)[0],
            "ticket_type": rng.choices(types, type_w)[0],
            "priority": rng.choice(_PRIORITIES),
            "note": [Note(text="reported by phone", author=f"agent-{rng.randrange(300)}")],
            "related_party": [Ref(id=customer, role="customer", referred_type="Individual")],
            "related_entity": [
                Ref(id=f"prod-{rng.randrange(400_000)}", role="affectedProduct", referred_type="Product")
            ],
            "channel": Ref(id=rng.choice(("call-centre", "web", "app", "shop"))),
        }
        ticket, _ = open_ticket(values, ticket_id=new_id(), now=created)
        moment = created
        for status in rng.choices(paths, path_w)[0]:
            moment += timedelta(minutes=rng.randrange(5, 600))
            _move(ticket, status, moment)
        yield ticket


def _move(ticket: TroubleTicket, status: Status, moment: datetime) -> None:
    """The lifecycle step of `change_ticket`, applied in place: a bulk load builds each ticket once, and
    copying it per step (dataclasses.replace) was a third of the loader's time. The table still rules."""
    check_transition(ticket.status, status)
    ticket.status_change.append(StatusChange(status=status, change_date=moment))
    ticket.status, ticket.status_change_date = status, moment
    ticket.last_update, ticket.version = moment, ticket.version + 1
    if status is Status.RESOLVED:
        ticket.resolution_date = moment


def seed_reports(
    db: Database,
    count: int,
    *,
    batch: int = 5000,
    seed: int = 621,
    progress: Callable[[int], None] | None = None,
    open_only: bool = False,
    due_timers: int | None = None,
    now: datetime | None = None,
) -> int:
    """Insert `count` synthetic reports in batches of `batch` (one transaction per batch).

    With `due_timers`, every open report gets an armed jeopardy timer (75 %): `due_timers` of them,
    spread evenly over the load, are due already at `now`; the others fall due 1 to 30 days later.
    """
    now = now or datetime.now(UTC)
    rng = random.Random(seed + 1)
    stride = max(1, count // due_timers) if due_timers else 0
    due_left = due_timers or 0
    pending: list[TroubleTicket] = []
    arms: list[timers.ArmRequest] = []
    written = 0
    for i, ticket in enumerate(synthetic_tickets(count, seed=seed, open_only=open_only)):
        pending.append(ticket)
        if due_timers is not None and ticket.status in WATCHED_STATUSES:
            if due_left and i % stride == 0:
                due_left -= 1
                due_at = now - timedelta(seconds=rng.randrange(1, 3600))
            else:
                due_at = now + timedelta(days=1 + rng.random() * 29)
            arms.append(jeopardy_timer(ticket.id, due_at, 75))
        if len(pending) == batch:
            written += _write(db, pending, arms, now)
            if progress:
                progress(len(pending))
            pending, arms = [], []
    if pending:
        written += _write(db, pending, arms, now)
        if progress:
            progress(len(pending))
    with db.begin() as conn:
        tally.fold(conn)  # one row per key, not one per key and batch
    return written


def _write(db: Database, batch: list[TroubleTicket], arms: list[timers.ArmRequest], now: datetime) -> int:
    with db.begin() as conn:
        tickets.add_many(conn, batch)
        timers.arm_many(conn, arms, now)
        history.append_many(
            conn,
            [
                HistoryEntry(
                    t.id,
                    t.creation_date or t.last_update or datetime.now(UTC),
                    "seed",
                    etom.CREATE_REPORT,
                    "created",
                    new_status=t.status.value,
                    reason="bulk load",
                )
                for t in batch
            ],
        )
    return len(batch)
