"""Bulk loading of realistic synthetic reports (benchmarks, demos): `troubleflow db seed --tickets N`.

Tickets are built by the domain (`open_ticket`, `change_ticket`), so they obey every rule; they are
written in large batches with their audit-trail rows, without outbox events (a bulk load is a migration,
not news for subscribers).
"""

from __future__ import annotations

import multiprocessing
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from datetime import UTC, datetime, timedelta
from multiprocessing.process import BaseProcess
from queue import Empty
from typing import Any

from troubleflow.domain import etom, tracking
from troubleflow.domain.ids import new_id
from troubleflow.domain.jeopardy import WATCHED_STATUSES
from troubleflow.domain.policy import Policy
from troubleflow.domain.status import Status, check_transition
from troubleflow.domain.ticket import Note, Ref, StatusChange, TroubleTicket, open_ticket
from troubleflow.domain.tracking import Tracking
from troubleflow.processes.jeopardy_timers import jeopardy_timer
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


# From this many reports on, a second process builds the batches while this one writes them: building
# (domain rules, JSON encoding) and writing (18 indexes) each took half the loader's time.
PARALLEL_FROM = 20_000


@dataclass(frozen=True, slots=True)
class _Batch:
    rows: list[dict[str, Any]]  # trouble_ticket rows, documents encoded
    arms: list[timers.ArmRequest]


@dataclass(frozen=True, slots=True)
class _Plan:
    count: int
    batch: int
    seed: int
    open_only: bool
    due_timers: int | None
    now: datetime
    tracking: dict[str, Tracking] | None = None  # with timers: Track & Manage state per seeded priority


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
    policy: Policy | None = None,
) -> int:
    """Insert `count` synthetic reports in batches of `batch` (one transaction per batch).

    With `due_timers`, every open report gets an armed jeopardy timer (75 %): `due_timers` of them,
    spread evenly over the load, are due already at `now`; the others fall due 1 to 30 days later. With a
    `policy` as well, those reports are under Track & Manage, so a firing escalates by the matrix.
    """
    now = now or datetime.now(UTC)
    states = _tracking_states(policy, now) if policy is not None and due_timers is not None else None
    plan = _Plan(count, batch, seed, open_only, due_timers, now, states)
    written = 0
    for item in _built_elsewhere(plan) if count >= PARALLEL_FROM else _batches(plan):
        written += _write(db, item, plan.now)
        if progress:
            progress(len(item.rows))
    with db.begin() as conn:
        tally.fold(conn)  # one row per key, not one per key and batch
    return written


def _batches(plan: _Plan) -> Iterator[_Batch]:
    rng = random.Random(plan.seed + 1)
    stride = max(1, plan.count // plan.due_timers) if plan.due_timers else 0
    due_left = plan.due_timers or 0
    rows: list[dict[str, Any]] = []
    arms: list[timers.ArmRequest] = []
    for i, ticket in enumerate(synthetic_tickets(plan.count, seed=plan.seed, open_only=plan.open_only)):
        if plan.due_timers is not None and ticket.status in WATCHED_STATUSES:
            ticket.tracking = plan.tracking.get(ticket.priority or "") if plan.tracking else None
        rows.append(tickets.row_of(ticket))
        if plan.due_timers is not None and ticket.status in WATCHED_STATUSES:
            if due_left and i % stride == 0:
                due_left -= 1
                due_at = plan.now - timedelta(seconds=rng.randrange(1, 3600))
            else:
                due_at = plan.now + timedelta(days=1 + rng.random() * 29)
            arms.append(jeopardy_timer(ticket.id, due_at, 75))
        if len(rows) == plan.batch:
            yield _Batch(rows, arms)
            rows, arms = [], []
    if rows:
        yield _Batch(rows, arms)


def _tracking_states(policy: Policy, now: datetime) -> dict[str, Tracking]:
    """With a policy, a backlog's open reports are under Track & Manage (so their jeopardy timers escalate by
    the matrix when they fire): one state per seeded priority, all started at the seed's `now`. Tracking is
    immutable, so reports share it (a commitment per report would double the seed's time), and it pickles,
    so the batch-building child gets the states rather than the policy."""
    named = {x.name.lower(): x.id for x in policy.priorities}
    states = {}
    for priority in _PRIORITIES:
        diagnosis = tracking.diagnose(policy, {}, {})
        if priority.lower() in named:
            diagnosis = dc_replace(diagnosis, priority=named[priority.lower()])
        states[priority] = tracking.start(policy, diagnosis, None, now)
    return states


def _built_elsewhere(plan: _Plan) -> Iterator[_Batch]:
    """The batches of `plan`, built by a child process a few batches ahead of the writer."""
    context = multiprocessing.get_context("spawn")  # no inherited engine, pool or lock
    queue: multiprocessing.Queue[_Batch | str | None] = context.Queue(maxsize=4)
    child = context.Process(target=_produce, args=(plan, queue), daemon=True)
    child.start()
    try:
        while (item := _next_from(queue, child)) is not None:
            if isinstance(item, str):
                raise RuntimeError(f"building the seed batches failed: {item}")
            yield item
    finally:
        child.kill()
        child.join()


def _next_from(queue: multiprocessing.Queue[_Batch | str | None], child: BaseProcess) -> _Batch | str | None:
    """The next item the child built. A child that died without saying so (killed, or failing to import
    before its own error handling runs) is an error, not a wait forever."""
    while True:
        alive = child.is_alive()  # read before waiting: what a dead child sent is in the pipe by then
        try:
            return queue.get(timeout=1)
        except Empty:
            if not alive:
                raise RuntimeError(
                    f"building the seed batches failed: the builder process exited ({child.exitcode})"
                ) from None


def _produce(plan: _Plan, queue: multiprocessing.Queue[_Batch | str | None]) -> None:
    try:
        for item in _batches(plan):
            queue.put(item)
        queue.put(None)
    except Exception as exc:  # the child's edge: the parent reports it
        queue.put(f"{type(exc).__name__}: {exc}")


def _write(db: Database, item: _Batch, now: datetime) -> int:
    with db.begin() as conn:
        tickets.add_rows(conn, item.rows)
        timers.arm_many(conn, item.arms, now)
        history.append_many(
            conn,
            [
                HistoryEntry(
                    row["id"],
                    row["creation_date"],
                    "seed",
                    etom.CREATE_REPORT,
                    "created",
                    new_status=row["status"],
                    reason="bulk load",
                )
                for row in item.rows
            ],
        )
    return len(item.rows)
