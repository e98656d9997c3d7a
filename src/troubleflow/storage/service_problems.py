"""Service problem repository (TMF656): insert, read, versioned update, delete, the report links kept in
step with each problem's `trouble_ticket`, and the group/ungroup task records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Connection, delete, select, update

from troubleflow.domain.events import SERVICE_PROBLEM_API
from troubleflow.domain.service_problem import ServiceProblem
from troubleflow.errors import NotFound
from troubleflow.storage.codec import decode_json, encode_json
from troubleflow.storage.driver import insert_rows
from troubleflow.storage.tables import outbox, service_problem, service_problem_task, service_problem_ticket

P = service_problem.c
L = service_problem_ticket.c
K = service_problem_task.c
OX = outbox.c

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ServiceProblem)


def encode(problem: ServiceProblem) -> str:
    return _encoder.encode(problem).decode()


def decode(doc: str | bytes) -> ServiceProblem:
    return _decoder.decode(doc)


def _row(problem: ServiceProblem, doc: str) -> dict[str, Any]:
    return {
        "id": problem.id,
        "version": problem.version,
        "status": problem.status.value,
        "category": problem.category,
        "priority": problem.priority,
        "creation_date": problem.creation_date,
        "last_update": problem.last_update,
        "doc": doc,
    }


def add(conn: Connection, problem: ServiceProblem) -> str:
    doc = encode(problem)
    insert_rows(conn, service_problem, [_row(problem, doc)])
    _link(conn, problem.id, problem.trouble_ticket)
    return doc


def get(conn: Connection, problem_id: str, *, for_update: bool = False) -> ServiceProblem:
    """A problem; with `for_update` its row stays locked on PostgreSQL until the transaction ends."""
    stmt = select(P.doc).where(P.id == problem_id)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    doc = conn.execute(stmt).scalar_one_or_none()
    if doc is None:
        raise NotFound(f"no service problem with id '{problem_id}'", field="id")
    return decode(doc)


def get_many(
    conn: Connection, problem_ids: Sequence[str], *, for_update: bool = False
) -> list[ServiceProblem]:
    """The existing problems among these ids, in id order (locked in that order: no deadlock between two)."""
    stmt = select(P.doc).where(P.id.in_(sorted(set(problem_ids)))).order_by(P.id)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return [decode(doc) for doc in conn.execute(stmt).scalars()]


def save(conn: Connection, problem: ServiceProblem, *, previous: ServiceProblem) -> str | None:
    """Write `problem` only if the stored version is still `previous.version`; None means it moved on."""
    doc = encode(problem)
    values = {k: v for k, v in _row(problem, doc).items() if k != "id"}
    result = conn.execute(
        update(service_problem).where(P.id == problem.id, P.version == previous.version).values(**values)
    )
    if result.rowcount != 1:
        return None
    if problem.trouble_ticket != previous.trouble_ticket:
        conn.execute(delete(service_problem_ticket).where(L.problem_id == problem.id))
        _link(conn, problem.id, problem.trouble_ticket)
    return doc


def remove(conn: Connection, problem_id: str) -> None:
    conn.execute(delete(service_problem_ticket).where(L.problem_id == problem_id))
    conn.execute(delete(service_problem).where(P.id == problem_id))


def _link(conn: Connection, problem_id: str, ticket_ids: Sequence[str]) -> None:
    insert_rows(
        conn, service_problem_ticket, [{"problem_id": problem_id, "ticket_id": t} for t in ticket_ids]
    )


def ids_for_ticket(conn: Connection, ticket_id: str) -> list[str]:
    """The problems that explain a report."""
    stmt = select(L.problem_id).where(L.ticket_id == ticket_id).order_by(L.problem_id)
    return [str(r) for r in conn.execute(stmt).scalars()]


def all_problems(conn: Connection, statuses: Sequence[str] = ()) -> list[ServiceProblem]:
    """Every problem (of these statuses), oldest first; the list filters run on the representation."""
    stmt = select(P.doc).order_by(P.creation_date, P.id)
    if statuses:
        stmt = stmt.where(P.status.in_(list(statuses)))
    return [decode(doc) for doc in conn.execute(stmt).scalars()]


# -- task resources (problemGroup / problemUngroup) --------------------------------------------------------


def add_task(conn: Connection, task_id: str, kind: str, at: datetime, doc: dict[str, Any]) -> None:
    insert_rows(
        conn, service_problem_task, [{"id": task_id, "kind": kind, "created_at": at, "doc": encode_json(doc)}]
    )


def get_task(conn: Connection, kind: str, task_id: str) -> dict[str, Any]:
    doc = conn.execute(select(K.doc).where(K.id == task_id, K.kind == kind)).scalar_one_or_none()
    if doc is None:
        raise NotFound(f"no {kind} with id '{task_id}'", field="id")
    result: dict[str, Any] = decode_json(doc)
    return result


def tasks(conn: Connection, kind: str) -> list[dict[str, Any]]:
    stmt = select(K.doc).where(K.kind == kind).order_by(K.created_at, K.id)
    return [decode_json(doc) for doc in conn.execute(stmt).scalars()]


# -- event records (the problem's events in the outbox) ----------------------------------------------------


def event_records(conn: Connection, problem_id: str | None = None) -> list[tuple[Any, ...]]:
    """(event id, kind, problem id, occurred at, fields, reason, payload) of the problems' events."""
    stmt = (
        select(OX.event_id, OX.kind, OX.ticket_id, OX.occurred_at, OX.fields, OX.reason, OX.payload)
        .where(OX.api == SERVICE_PROBLEM_API)
        .order_by(OX.id)
    )
    if problem_id is not None:
        stmt = stmt.where(OX.ticket_id == problem_id)
    return [tuple(r) for r in conn.execute(stmt)]


def event_record(conn: Connection, event_id: str) -> tuple[Any, ...]:
    stmt = select(OX.event_id, OX.kind, OX.ticket_id, OX.occurred_at, OX.fields, OX.reason, OX.payload).where(
        OX.api == SERVICE_PROBLEM_API, OX.event_id == event_id
    )
    row = conn.execute(stmt).first()
    if row is None:
        raise NotFound(f"no service problem event record with id '{event_id}'", field="id")
    return tuple(row)
