"""The B2B hand-off outbox: one row per outbound HTTP request to a peer (a partner's TMF621 API, later a
service problem manager), written in the transaction of the decision that needs it, then leased, sent and
marked by the worker with retries, backoff, parking and replay (the `outbox.record_failure` columns).
A hand-off is never deleted: a failure leaves it pending or parked, visible, replayable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update

from troubleflow.errors import NotFound
from troubleflow.storage.codec import encode_json
from troubleflow.storage.driver import insert_returning
from troubleflow.storage.outbox import record_failure
from troubleflow.storage.tables import handoff

HO = handoff.c

PENDING, SENT, PARKED = "pending", "sent", "parked"
STATES = (PENDING, SENT, PARKED)


@dataclass(frozen=True, slots=True)
class Request:
    """What a decision asks to be sent: the call and what it is about."""

    target: str  # the kind of peer resource, e.g. partnerTroubleTicket
    action: str  # create | subscribe | retrieve | cancel | …
    method: str
    url: str
    body: Any = None  # JSON-able; None for GET/DELETE
    ticket_id: str | None = None  # our report
    record_id: str | None = None  # our record of the peer's resource (e.g. the partner ticket)


@dataclass(frozen=True, slots=True)
class Handoff:
    id: int
    target: str
    action: str
    method: str
    url: str
    body: str | None
    ticket_id: str | None
    record_id: str | None
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    response_status: int | None
    sent_at: datetime | None
    created_at: datetime


_COLUMNS = (
    HO.id,
    HO.target,
    HO.action,
    HO.method,
    HO.url,
    HO.body,
    HO.ticket_id,
    HO.record_id,
    HO.state,
    HO.attempts,
    HO.next_attempt_at,
    HO.last_error,
    HO.response_status,
    HO.sent_at,
    HO.created_at,
)


def _handoff(r: Any) -> Handoff:
    return Handoff(*r)


def add(conn: Connection, request: Request, now: datetime) -> int:
    """Queue a request, due at once; returns its id."""
    row = {
        "target": request.target,
        "action": request.action,
        "method": request.method,
        "url": request.url,
        "body": encode_json(request.body) if request.body is not None else None,
        "ticket_id": request.ticket_id,
        "record_id": request.record_id,
        "state": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    inserted = insert_returning(conn, handoff, row, "id")
    assert inserted is not None  # no unique key but the id
    return int(inserted)


def claim(conn: Connection, now: datetime, lease: timedelta, limit: int) -> list[Handoff]:
    """Lease up to `limit` due pending hand-offs, oldest first (SKIP LOCKED between workers)."""
    stmt = (
        select(*_COLUMNS)
        .where(
            HO.state == PENDING,
            HO.next_attempt_at <= now,
            (HO.leased_until.is_(None)) | (HO.leased_until < now),
        )
        .order_by(HO.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    found = [_handoff(r) for r in conn.execute(stmt)]
    if found:
        ids = [h.id for h in found]
        conn.execute(update(handoff).where(HO.id.in_(ids)).values(leased_until=now + lease))
    return found


def mark_sent(conn: Connection, handoff_id: int, status: int, now: datetime) -> None:
    conn.execute(
        update(handoff)
        .where(HO.id == handoff_id)
        .values(
            state=SENT,
            sent_at=now,
            leased_until=None,
            attempts=HO.attempts + 1,
            last_error=None,
            response_status=status,
        )
    )


def mark_failed(
    conn: Connection, handoff_id: int, error: str, status: int | None, next_attempt_at: datetime, park: bool
) -> None:
    record_failure(conn, handoff, handoff_id, error, next_attempt_at, park)
    if status is not None:
        conn.execute(update(handoff).where(HO.id == handoff_id).values(response_status=status))


def get(conn: Connection, handoff_id: int) -> Handoff:
    row = conn.execute(select(*_COLUMNS).where(HO.id == handoff_id)).one_or_none()
    if row is None:
        raise NotFound(f"no hand-off with id {handoff_id}", field="id")
    return _handoff(row)


def listed(
    conn: Connection,
    state: str | None,
    ticket_id: str | None,
    offset: int,
    limit: int,
    target: str | None = None,
) -> tuple[list[Handoff], int]:
    where = []
    if state:
        where.append(HO.state == state)
    if ticket_id:
        where.append(HO.ticket_id == ticket_id)
    if target:
        where.append(HO.target == target)
    total = conn.execute(select(func.count()).select_from(handoff).where(*where)).scalar_one()
    stmt = select(*_COLUMNS).where(*where).order_by(HO.id).offset(offset).limit(limit)
    return [_handoff(r) for r in conn.execute(stmt)], int(total)


def replay(conn: Connection, ids: Sequence[int] | None, now: datetime) -> int:
    """Put parked hand-offs back in line, due at `now` (all of them when `ids` is None)."""
    stmt = update(handoff).where(HO.state == PARKED)
    if ids is not None:
        stmt = stmt.where(HO.id.in_(ids))
    values = {"state": PENDING, "attempts": 0, "leased_until": None, "next_attempt_at": now}
    count = conn.execute(stmt.values(**values)).rowcount
    if ids is not None and count != len(set(ids)):
        raise NotFound("some of the given hand-offs are not parked (or do not exist)")
    return int(count)


def note_error(conn: Connection, handoff_id: int, error: str) -> None:
    """Keep why a sent hand-off's answer could not be used (it stays sent: the call was made)."""
    conn.execute(update(handoff).where(HO.id == handoff_id).values(last_error=error[:2000]))
