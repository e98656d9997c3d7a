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

from sqlalchemy import Connection, and_, exists, insert, select, text, update
from sqlalchemy.orm import aliased

from troubleflow.domain.events import EventKind, TicketEvent
from troubleflow.domain.ids import new_id
from troubleflow.errors import NotFound
from troubleflow.storage.codec import decode_json, encode_json
from troubleflow.storage.inserts import insert_rows
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


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    subscription_id: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    event: OutboxEvent


def add(conn: Connection, events: Sequence[TicketEvent], payload: str, now: datetime) -> None:
    add_many(conn, [(events, payload)], now)


def add_many(conn: Connection, changes: Sequence[tuple[Sequence[TicketEvent], str]], now: datetime) -> None:
    """Events of several tickets, each with its ticket document as of the change, in one statement."""
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
        }
        for events, payload in changes
        for e in events
    ]
    insert_rows(conn, outbox, rows)


def _event(m: Any) -> OutboxEvent:
    """An outbox row (keyed by outbox columns, so it also reads a row joined with deliveries)."""
    return OutboxEvent(
        id=m[OX.id],
        event_id=m[OX.event_id],
        kind=EventKind(m[OX.kind]),
        ticket_id=m[OX.ticket_id],
        occurred_at=m[OX.occurred_at],
        fields=tuple(decode_json(m[OX.fields])) if m[OX.fields] else (),
        reason=m[OX.reason],
        payload=m[OX.payload],
    )


def lock_fan_out(conn: Connection) -> bool:
    """Serialise fan-out between workers (PostgreSQL advisory lock; SQLite already has one writer)."""
    if conn.dialect.name != "postgresql":
        return True
    return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(621001)")).scalar())


def undispatched(conn: Connection, limit: int) -> list[OutboxEvent]:
    rows = conn.execute(select(outbox).where(OX.dispatched == 0).order_by(OX.id).limit(limit)).mappings()
    return [_event(r) for r in rows]


def create_deliveries(
    conn: Connection, event: OutboxEvent, subscription_ids: Sequence[str], now: datetime
) -> None:
    if subscription_ids:
        conn.execute(
            insert(delivery),
            [
                {
                    "outbox_id": event.id,
                    "subscription_id": sid,
                    "ticket_id": event.ticket_id,
                    "state": PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                }
                for sid in subscription_ids
            ],
        )
    conn.execute(update(outbox).where(OX.id == event.id).values(dispatched=1))


def claim(conn: Connection, now: datetime, lease: timedelta, limit: int) -> list[Delivery]:
    """Lease up to `limit` deliveries that are due and first in line for their (subscription, ticket)."""
    earlier = aliased(delivery)
    stmt = (
        select(delivery, outbox)
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
    ids = [r._mapping[D.id] for r in rows]
    conn.execute(update(delivery).where(D.id.in_(ids)).values(leased_until=now + lease))
    result = []
    for r in rows:
        m = r._mapping
        ev = _event(m)
        result.append(
            Delivery(
                id=m[D.id],
                subscription_id=m[D.subscription_id],
                state=m[D.state],
                attempts=m[D.attempts],
                next_attempt_at=m[D.next_attempt_at],
                last_error=m[D.last_error],
                event=ev,
            )
        )
    return result


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
    conn.execute(
        update(delivery)
        .where(D.id == delivery_id)
        .values(
            state=PARKED if park else PENDING,
            attempts=D.attempts + 1,
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
