"""Transactional outbox and per-subscription deliveries.

Ordering: events of one ticket are written in commit order (the ticket row serialises its writers),
so outbox ids order them. Fan-out (event → one delivery per matching subscription) runs under a lock
so no event overtakes an earlier one of its ticket; a delivery is only eligible while no earlier
delivery for the same (subscription, ticket) is still pending. Parked deliveries do not block.
At-least-once: a delivery is leased, sent outside any transaction, then marked; a crash before the
mark lets the lease expire and the same event (same eventId) is sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, and_, exists, select, text, update
from sqlalchemy.orm import aliased

from troubleflow.domain.events import TROUBLE_TICKET_API, EventKind, TicketEvent
from troubleflow.domain.ids import new_id
from troubleflow.errors import NotFound
from troubleflow.storage.codec import decode_json, encode_json
from troubleflow.storage.driver import insert_rows
from troubleflow.storage.tables import delivery, hub_subscription, outbox

OX = outbox.c
D = delivery.c

PENDING, DELIVERED, PARKED = "pending", "delivered", "parked"


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    id: int
    event_id: str
    kind: EventKind
    ticket_id: str
    occurred_at: datetime
    fields: tuple[str, ...]
    reason: str | None
    payload: str
    api: str = TROUBLE_TICKET_API  # whose resource `ticket_id` names (a service problem's id for TMF656)


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    subscription_id: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    event: OutboxEvent


def add(
    conn: Connection,
    events: Sequence[TicketEvent],
    payload: str,
    now: datetime,
    api: str = TROUBLE_TICKET_API,
) -> None:
    add_many(conn, [(events, payload)], now, api)


def add_many(
    conn: Connection,
    changes: Sequence[tuple[Sequence[TicketEvent], str]],
    now: datetime,
    api: str = TROUBLE_TICKET_API,
) -> None:
    """Events of several tickets (or of several resources of `api`), each with its document as of the
    change, in one statement."""
    rows = [
        {
            "event_id": new_id(),
            "kind": e.kind.value,
            "ticket_id": e.ticket_id,
            "occurred_at": now,
            "fields": encode_json(list(e.fields)) if e.fields else None,
            "reason": e.reason,
            "payload": payload,
            "dispatched": 0,
            "api": api,
        }
        for events, payload in changes
        for e in events
    ]
    insert_rows(conn, outbox, rows)


# The columns an event is read from, in the order `_event` takes them (positional rows: reading a row
# mapping by Column objects was most of the cost of reading a batch).
_EVENT_COLUMNS = (
    OX.id, OX.event_id, OX.kind, OX.ticket_id, OX.occurred_at, OX.fields, OX.reason, OX.payload, OX.api
)  # fmt: skip
_DELIVERY_COLUMNS = (D.id, D.subscription_id, D.state, D.attempts, D.next_attempt_at, D.last_error)


def _event(r: Sequence[Any]) -> OutboxEvent:
    return OutboxEvent(
        id=r[0],
        event_id=r[1],
        kind=EventKind(r[2]),
        ticket_id=r[3],
        occurred_at=r[4],
        fields=tuple(decode_json(r[5])) if r[5] else (),
        reason=r[6],
        payload=r[7],
        api=r[8],
    )


def lock_fan_out(conn: Connection) -> bool:
    """Serialise fan-out between workers (PostgreSQL advisory lock; SQLite already has one writer)."""
    if conn.dialect.name != "postgresql":
        return True
    return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(621001)")).scalar())


def undispatched(conn: Connection, limit: int) -> list[OutboxEvent]:
    stmt = select(*_EVENT_COLUMNS).where(OX.dispatched == 0).order_by(OX.id).limit(limit)
    return [_event(r) for r in conn.execute(stmt)]


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A delivery as fan-out leaves it: posted (delivered or failed once) or queued unposted."""

    event: OutboxEvent
    subscription_id: str
    state: str
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None = None
    error: str | None = None


def record_dispatch(
    conn: Connection, events: Sequence[OutboxEvent], deliveries: Sequence[NewDelivery]
) -> None:
    """Mark `events` dispatched and write their deliveries: two statements for the whole batch."""
    insert_rows(
        conn,
        delivery,
        [
            {
                "outbox_id": d.event.id,
                "subscription_id": d.subscription_id,
                "ticket_id": d.event.ticket_id,
                "state": d.state,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at,
                "delivered_at": d.delivered_at,
                "last_error": d.error[:2000] if d.error else None,
            }
            for d in deliveries
        ],
    )
    if events:
        conn.execute(update(outbox).where(OX.id.in_([e.id for e in events])).values(dispatched=1))


def pending_lines(conn: Connection, ticket_ids: set[str]) -> set[tuple[str, str]]:
    """The (subscription, ticket) lines among these tickets with a delivery still pending."""
    if not ticket_ids:
        return set()
    stmt = (
        select(D.subscription_id, D.ticket_id)
        .where(D.state == PENDING, D.ticket_id.in_(sorted(ticket_ids)))
        .distinct()
    )
    return {(r[0], r[1]) for r in conn.execute(stmt)}


def claim(conn: Connection, now: datetime, lease: timedelta, limit: int) -> list[Delivery]:
    """Lease up to `limit` deliveries that are due and first in line for their (subscription, ticket)."""
    earlier = aliased(delivery)
    stmt = (
        select(*_DELIVERY_COLUMNS, *_EVENT_COLUMNS)
        .join(outbox, OX.id == D.outbox_id)
        .where(
            D.state == PENDING,
            D.next_attempt_at <= now,
            (D.leased_until.is_(None)) | (D.leased_until < now),
            ~exists().where(
                and_(
                    earlier.c.subscription_id == D.subscription_id,
                    earlier.c.ticket_id == D.ticket_id,
                    earlier.c.state == PENDING,
                    earlier.c.outbox_id < D.outbox_id,
                )
            ),
        )
        .order_by(D.outbox_id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=delivery)
    rows = conn.execute(stmt).all()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    conn.execute(update(delivery).where(D.id.in_(ids)).values(leased_until=now + lease))
    n = len(_DELIVERY_COLUMNS)
    return [Delivery(r[0], r[1], r[2], r[3], r[4], r[5], _event(r[n:])) for r in rows]


def mark_delivered(conn: Connection, delivery_ids: Sequence[int], now: datetime) -> None:
    if not delivery_ids:
        return
    conn.execute(
        update(delivery)
        .where(D.id.in_(delivery_ids))
        .values(
            state=DELIVERED, delivered_at=now, leased_until=None, attempts=D.attempts + 1, last_error=None
        )
    )


def mark_failed(
    conn: Connection, delivery_id: int, error: str, next_attempt_at: datetime, park: bool
) -> None:
    record_failure(conn, delivery, delivery_id, error, next_attempt_at, park)


def record_failure(
    conn: Connection, table: Table, row_id: int, error: str, next_attempt_at: datetime, park: bool
) -> None:
    """A failed attempt of an outgoing call (a delivery row, or a notification row: the same retry
    columns): one attempt more, the error kept, due again later or parked when no attempt is left."""
    c = table.c
    conn.execute(
        update(table)
        .where(c.id == row_id)
        .values(
            state=PARKED if park else PENDING,
            attempts=c.attempts + 1,
            last_error=error[:2000],
            next_attempt_at=next_attempt_at,
            leased_until=None,
        )
    )


def list_deliveries(conn: Connection, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    stmt = (
        select(
            D.id,
            D.subscription_id,
            D.ticket_id,
            D.state,
            D.attempts,
            D.next_attempt_at,
            D.last_error,
            D.delivered_at,
            OX.event_id,
            OX.kind,
            hub_subscription.c.callback,
        )
        .join(outbox, OX.id == D.outbox_id)
        .join(hub_subscription, hub_subscription.c.id == D.subscription_id)
        .order_by(D.id)
        .limit(limit)
    )
    if state:
        stmt = stmt.where(D.state == state)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def replay(conn: Connection, delivery_ids: Sequence[int] | None) -> int:
    """Put parked deliveries back in line, due at once (all of them when `delivery_ids` is None).

    Their old `next_attempt_at` is already past, so they are due whatever the clock of the host that
    replays them says."""
    stmt = update(delivery).where(D.state == PARKED)
    if delivery_ids is not None:
        stmt = stmt.where(D.id.in_(delivery_ids))
    count = conn.execute(stmt.values(state=PENDING, attempts=0, leased_until=None)).rowcount
    if delivery_ids is not None and count != len(set(delivery_ids)):
        raise NotFound("some of the given deliveries are not parked (or do not exist)")
    return int(count)


def counts(conn: Connection) -> dict[str, int]:
    from sqlalchemy import func

    rows = conn.execute(select(D.state, func.count()).group_by(D.state)).all()
    undispatched_count = conn.execute(
        select(func.count()).select_from(outbox).where(OX.dispatched == 0)
    ).scalar_one()
    return {**{str(s): int(c) for s, c in rows}, "undispatched": int(undispatched_count)}
