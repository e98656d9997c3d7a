"""Escalation steps taken per report (Escalate Customer Problem, 1.3.7.3.3) and the NOC view over them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from troubleflow.domain.ticket import TroubleTicket
from troubleflow.storage.codec import decode_ticket
from troubleflow.storage.driver import insert_returning
from troubleflow.storage.tables import escalation, trouble_ticket

E = escalation.c
T = trouble_ticket.c


@dataclass(frozen=True, slots=True)
class Step:
    """A step as recorded: the matrix cell (or the manual choice) that was taken, when, by whom, why."""

    id: int
    ticket_id: str
    level: int
    cause: str
    threshold: int | None
    role: str | None
    workgroup: str | None
    list_id: str | None
    actor: str
    reason: str | None
    at: datetime


_COLUMNS = (E.id, E.ticket_id, E.level, E.cause, E.threshold, E.role, E.workgroup, E.list_id, E.actor)


def add(conn: Connection, step: Step) -> int | None:
    """Record a step; its id, or None when the report already has a step at this level (taken once)."""
    row = {
        "ticket_id": step.ticket_id,
        "level": step.level,
        "cause": step.cause,
        "threshold": step.threshold,
        "role": step.role,
        "workgroup": step.workgroup,
        "list_id": step.list_id,
        "actor": step.actor,
        "reason": step.reason,
        "at": step.at,
    }
    inserted = insert_returning(conn, escalation, row, "id", skip_conflicts=True)  # on the driver: per firing
    return int(inserted) if inserted is not None else None


def for_ticket(conn: Connection, ticket_id: str) -> list[Step]:
    stmt = select(*_COLUMNS, E.reason, E.at).where(E.ticket_id == ticket_id).order_by(E.level)
    return [Step(*r) for r in conn.execute(stmt)]


def escalated_open(
    conn: Connection, level: int, open_statuses: Sequence[str], offset: int, limit: int
) -> tuple[list[tuple[TroubleTicket, int, datetime]], int]:
    """(report, highest level, when last escalated) of open reports escalated at or above `level`, highest
    level first, and how many there are. Read from the (level, ticket_id) index, joined to the report
    by primary key; only escalated reports are visited, never the whole backlog."""
    top = (
        select(E.ticket_id, func.max(E.level).label("level"), func.max(E.at).label("at"))
        .where(E.level >= level)
        .group_by(E.ticket_id)
        .subquery()
    )
    joined = top.join(trouble_ticket, T.id == top.c.ticket_id)
    where = T.status.in_(list(open_statuses))
    total = conn.execute(select(func.count()).select_from(joined).where(where)).scalar_one()
    page = (
        select(T.doc, top.c.level, top.c.at)
        .select_from(joined)
        .where(where)
        .order_by(top.c.level.desc(), top.c.at, top.c.ticket_id)
        .offset(offset)
        .limit(limit)
    )
    return [(decode_ticket(r[0]), int(r[1]), r[2]) for r in conn.execute(page)], int(total)
