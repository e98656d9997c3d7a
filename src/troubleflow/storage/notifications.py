"""Notifications of escalation steps, one row per list recipient: written in the step's transaction, then
leased, sent and marked by the worker with retries, backoff, parking and replay (as `outbox` deliveries).
The unique (ticket, level, channel, address) key makes a step's notice to a recipient exist only once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update

from troubleflow.domain.escalation import Notice
from troubleflow.errors import NotFound
from troubleflow.storage.codec import encode_json
from troubleflow.storage.driver import insert_rows
from troubleflow.storage.outbox import record_failure
from troubleflow.storage.tables import notification

N = notification.c

PENDING, SENT, PARKED = "pending", "sent", "parked"
STATES = (PENDING, SENT, PARKED)


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    escalation_id: int
    ticket_id: str
    level: int
    list_id: str
    channel: str
    address: str
    subject: str
    body: str
    payload: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None


def _notification(r: Any) -> Notification:
    return Notification(**r._mapping)


_COLUMNS = (
    N.id,
    N.escalation_id,
    N.ticket_id,
    N.level,
    N.list_id,
    N.channel,
    N.address,
    N.subject,
    N.body,
    N.payload,
    N.state,
    N.attempts,
    N.next_attempt_at,
    N.last_error,
    N.sent_at,
)


def add_many(
    conn: Connection,
    escalation_id: int,
    ticket_id: str,
    level: int,
    list_id: str,
    notices: Sequence[Notice],
    facts: dict[str, Any],
    now: datetime,
) -> None:
    """Queue one notification per notice, due at once; a recipient already told of this step is skipped."""
    if not notices:
        return
    payload = encode_json(facts)
    rows = [
        {
            "escalation_id": escalation_id,
            "ticket_id": ticket_id,
            "level": level,
            "list_id": list_id,
            "channel": n.channel.value,
            "address": n.address,
            "subject": n.subject,
            "body": n.body,
            "payload": payload,
            "state": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for n in notices
    ]
    insert_rows(conn, notification, rows, skip_conflicts=True)  # on the driver: per escalating firing


def claim(conn: Connection, now: datetime, lease: timedelta, limit: int) -> list[Notification]:
    """Lease up to `limit` due pending notifications (SKIP LOCKED between workers on PostgreSQL)."""
    stmt = (
        select(*_COLUMNS)
        .where(
            N.state == PENDING,
            N.next_attempt_at <= now,
            (N.leased_until.is_(None)) | (N.leased_until < now),
        )
        .order_by(N.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    found = [_notification(r) for r in conn.execute(stmt)]
    if found:
        ids = [n.id for n in found]
        conn.execute(update(notification).where(N.id.in_(ids)).values(leased_until=now + lease))
    return found


def mark_sent(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    if ids:
        conn.execute(
            update(notification)
            .where(N.id.in_(ids))
            .values(state=SENT, sent_at=now, leased_until=None, attempts=N.attempts + 1, last_error=None)
        )


def mark_failed(
    conn: Connection, notification_id: int, error: str, next_attempt_at: datetime, park: bool
) -> None:
    record_failure(conn, notification, notification_id, error, next_attempt_at, park)


def for_ticket(conn: Connection, ticket_id: str) -> list[Notification]:
    stmt = select(*_COLUMNS).where(N.ticket_id == ticket_id).order_by(N.id)
    return [_notification(r) for r in conn.execute(stmt)]


def listed(conn: Connection, state: str | None, offset: int, limit: int) -> tuple[list[Notification], int]:
    where = [N.state == state] if state else []
    total = conn.execute(select(func.count()).select_from(notification).where(*where)).scalar_one()
    stmt = select(*_COLUMNS).where(*where).order_by(N.id).offset(offset).limit(limit)
    return [_notification(r) for r in conn.execute(stmt)], int(total)


def replay(conn: Connection, ids: Sequence[int] | None, now: datetime) -> int:
    """Put parked notifications back in line, due at `now` (all of them when `ids` is None)."""
    stmt = update(notification).where(N.state == PARKED)
    if ids is not None:
        stmt = stmt.where(N.id.in_(ids))
    values = {"state": PENDING, "attempts": 0, "leased_until": None, "next_attempt_at": now}
    count = conn.execute(stmt.values(**values)).rowcount
    if ids is not None and count != len(set(ids)):
        raise NotFound("some of the given notifications are not parked (or do not exist)")
    return int(count)
