"""Partner tickets (our records of problems submitted to partners, docs/partners.md): add, read, lock,
save with a version check, list."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from troubleflow.domain.partner_ticket import PartnerTicket
from troubleflow.errors import Conflict, NotFound
from troubleflow.storage.tables import partner_ticket

PT = partner_ticket.c


def _record(r: Any) -> PartnerTicket:
    return PartnerTicket(**r._mapping)


def add(conn: Connection, record: PartnerTicket) -> None:
    """Insert a new record; Conflict when the report already has one for this partner."""
    exists = conn.execute(
        select(PT.id).where(PT.ticket_id == record.ticket_id, PT.partner_id == record.partner_id)
    ).first()
    if exists is not None:
        raise Conflict(
            f"report '{record.ticket_id}' was already submitted to partner '{record.partner_id}' "
            f"(partner ticket record {exists[0]})"
        )
    conn.execute(insert(partner_ticket).values(**asdict(record)))


def get(conn: Connection, record_id: str, *, for_update: bool = False) -> PartnerTicket:
    stmt = select(partner_ticket).where(PT.id == record_id)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).one_or_none()
    if row is None:
        raise NotFound(f"no partner ticket record with id '{record_id}'", field="id")
    return _record(row)


def by_partner_ticket(conn: Connection, partner_id: str, partner_ticket_id: str) -> PartnerTicket | None:
    stmt = select(partner_ticket).where(
        PT.partner_id == partner_id, PT.partner_ticket_id == partner_ticket_id
    )
    row = conn.execute(stmt).first()
    return _record(row) if row is not None else None


def for_ticket(conn: Connection, ticket_id: str) -> list[PartnerTicket]:
    stmt = select(partner_ticket).where(PT.ticket_id == ticket_id).order_by(PT.created_at, PT.id)
    return [_record(r) for r in conn.execute(stmt)]


def save(conn: Connection, record: PartnerTicket, *, previous: PartnerTicket) -> None:
    """Write `record` (version already raised) if the row is still at `previous`'s version."""
    values = {k: v for k, v in asdict(record).items() if k not in ("id", "ticket_id", "created_at")}
    done = conn.execute(
        update(partner_ticket).where(PT.id == record.id, PT.version == previous.version).values(**values)
    ).rowcount
    if done != 1:
        raise Conflict(f"partner ticket record '{record.id}' was changed concurrently; try again")


def listed(
    conn: Connection, partner_id: str | None, offset: int, limit: int
) -> tuple[list[PartnerTicket], int]:
    where = [PT.partner_id == partner_id] if partner_id else []
    total = conn.execute(select(func.count()).select_from(partner_ticket).where(*where)).scalar_one()
    stmt = select(partner_ticket).where(*where).order_by(PT.created_at, PT.id).offset(offset).limit(limit)
    return [_record(r) for r in conn.execute(stmt)], int(total)
