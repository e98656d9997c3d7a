"""Durable timers: arm a deadline for a report, claim the due ones, mark them fired or cancelled.

Claiming and firing happen in one transaction with the timer's effect, so a timer fires exactly once:
two workers on PostgreSQL skip each other's rows (FOR UPDATE SKIP LOCKED); on SQLite one writer runs
at a time. A crash before commit leaves the timer armed for the next pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from troubleflow.storage.codec import decode_json, encode_json
from troubleflow.storage.driver import insert_rows
from troubleflow.storage.tables import timer

TM = timer.c
ARMED, FIRED, CANCELLED = "armed", "fired", "cancelled"


@dataclass(frozen=True, slots=True)
class Timer:
    id: int
    ticket_id: str
    kind: str
    process_id: str
    due_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ArmRequest:
    ticket_id: str
    kind: str
    process_id: str
    due_at: datetime
    payload: dict[str, Any]


def arm_many(conn: Connection, requests: Sequence[ArmRequest], now: datetime) -> None:
    if not requests:
        return
    insert_rows(
        conn,
        timer,
        [
            {
                "ticket_id": r.ticket_id,
                "kind": r.kind,
                "process_id": r.process_id,
                "due_at": r.due_at,
                "state": ARMED,
                "payload": encode_json(r.payload),
                "armed_at": now,
            }
            for r in requests
        ],
    )


def claim_due(conn: Connection, now: datetime, limit: int) -> list[Timer]:
    """Armed timers due at `now`, oldest first; on PostgreSQL locked for this transaction."""
    stmt = (
        select(TM.id, TM.ticket_id, TM.kind, TM.process_id, TM.due_at, TM.payload)
        .where(TM.state == ARMED, TM.due_at <= now)
        .order_by(TM.due_at, TM.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return [
        Timer(r.id, r.ticket_id, r.kind, r.process_id, r.due_at, decode_json(r.payload))
        for r in conn.execute(stmt)
    ]


def mark_fired(conn: Connection, timer_ids: Sequence[int], now: datetime) -> None:
    if timer_ids:
        conn.execute(update(timer).where(TM.id.in_(timer_ids)).values(state=FIRED, ended_at=now))


def cancel_for_ticket(
    conn: Connection, ticket_id: str, now: datetime, kinds: Sequence[str] | None = None
) -> int:
    """End every armed timer of a report (cleared, cancelled, closed or deleted), or only those of `kinds`."""
    where = [TM.ticket_id == ticket_id, TM.state == ARMED]
    if kinds is not None:
        where.append(TM.kind.in_(list(kinds)))
    result = conn.execute(update(timer).where(*where).values(state=CANCELLED, ended_at=now))
    return int(result.rowcount)


def for_ticket(conn: Connection, ticket_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(timer).where(TM.ticket_id == ticket_id).order_by(TM.due_at, TM.id))
    return [{**r._mapping, "payload": decode_json(r.payload)} for r in rows]


def is_armed(conn: Connection, ticket_id: str, kind: str) -> bool:
    """Whether a timer of this kind is armed for the report (e.g. its next progress update)."""
    stmt = select(TM.id).where(TM.ticket_id == ticket_id, TM.kind == kind, TM.state == ARMED).limit(1)
    return conn.execute(stmt).first() is not None


def postpone(conn: Connection, ticket_id: str, kind: str, due_at: datetime) -> int:
    """Move the report's armed timers of this kind to `due_at`; returns how many there were."""
    result = conn.execute(
        update(timer)
        .where(TM.ticket_id == ticket_id, TM.kind == kind, TM.state == ARMED)
        .values(due_at=due_at)
    )
    return int(result.rowcount)


def cancel_kind(conn: Connection, ticket_id: str, kind: str, now: datetime) -> int:
    """End the report's armed timers of one kind (e.g. its auto-close once the customer answered)."""
    result = conn.execute(
        update(timer)
        .where(TM.ticket_id == ticket_id, TM.kind == kind, TM.state == ARMED)
        .values(state=CANCELLED, ended_at=now)
    )
    return int(result.rowcount)
