"""Our records of service problems handed to external TMF656 managers (docs/service-problems.md): add,
read, lock, find by the remote id, save with a version check."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, insert, select, update

from troubleflow.domain.external_problem import ExternalProblem
from troubleflow.errors import Conflict, NotFound
from troubleflow.storage.tables import external_service_problem

EX = external_service_problem.c


def _record(r: Any) -> ExternalProblem:
    return ExternalProblem(**r._mapping)


def add(conn: Connection, record: ExternalProblem) -> None:
    conn.execute(insert(external_service_problem).values(**asdict(record)))


def get(conn: Connection, problem_id: str, *, for_update: bool = False) -> ExternalProblem:
    found = find(conn, problem_id, for_update=for_update)
    if found is None:
        raise NotFound(f"service problem '{problem_id}' was not handed to an external manager", field="id")
    return found


def find(conn: Connection, problem_id: str, *, for_update: bool = False) -> ExternalProblem | None:
    stmt = select(external_service_problem).where(EX.problem_id == problem_id)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).one_or_none()
    return _record(row) if row is not None else None


def by_remote(conn: Connection, domain_id: str, remote_id: str) -> ExternalProblem | None:
    stmt = select(external_service_problem).where(EX.domain_id == domain_id, EX.remote_id == remote_id)
    row = conn.execute(stmt).first()
    return _record(row) if row is not None else None


def save(conn: Connection, record: ExternalProblem, *, previous: ExternalProblem) -> None:
    """Write `record` (version already raised) if the row is still at `previous`'s version."""
    values = {k: v for k, v in asdict(record).items() if k not in ("problem_id", "created_at")}
    done = conn.execute(
        update(external_service_problem)
        .where(EX.problem_id == record.problem_id, EX.version == previous.version)
        .values(**values)
    ).rowcount
    if done != 1:
        raise Conflict(f"external service problem record '{record.problem_id}' was changed concurrently")
