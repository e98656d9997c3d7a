"""Restoration rows, read and written inside the caller's transaction: a report's restoration trail
(append-only, numbered per report) and the items a restoration opens (change requests, product order
requests, process requests), each versioned for optimistic concurrency."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from troubleflow.domain.restoration import Item, ItemKind, ItemState, Kind, Record
from troubleflow.errors import Conflict, NotFound
from troubleflow.storage.codec import decode_json, encode_json
from troubleflow.storage.tables import restoration_item, restoration_record

R = restoration_record.c
I = restoration_item.c  # noqa: E741


def add_record(conn: Connection, record: Record) -> Record:
    """Append `record` to its report's trail with the next number (the caller holds the report's row lock,
    so numbers never collide); the record as stored."""
    last = conn.execute(select(func.max(R.seq)).where(R.ticket_id == record.ticket_id)).scalar()
    seq = int(last or 0) + 1
    conn.execute(
        insert(restoration_record).values(
            ticket_id=record.ticket_id,
            seq=seq,
            kind=record.kind.value,
            outcome=record.outcome,
            description=record.description,
            actor=record.actor,
            at=record.at,
            details=encode_json(dict(record.details)),
        )
    )
    return Record(
        record.ticket_id,
        str(seq),
        record.kind,
        record.outcome,
        record.description,
        record.actor,
        record.at,
        record.details,
    )


def _record(r: Any) -> Record:
    return Record(
        r.ticket_id, str(r.seq), Kind(r.kind), r.outcome, r.description, r.actor, r.at, decode_json(r.details)
    )


def records(conn: Connection, ticket_id: str, kind: Kind | None = None) -> list[Record]:
    """A report's restoration trail in order (of one kind when asked)."""
    stmt = select(restoration_record).where(R.ticket_id == ticket_id)
    if kind is not None:
        stmt = stmt.where(R.kind == kind.value)
    return [_record(r) for r in conn.execute(stmt.order_by(R.seq))]


def _item_row(item: Item) -> dict[str, Any]:
    return {
        "kind": item.kind.value,
        "ticket_id": item.ticket_id,
        "state": item.state.value,
        "description": item.description,
        "target_process": item.target_process,
        "action": item.action,
        "product_id": item.product_id,
        "known_error_id": item.known_error_id,
        "reason": item.reason,
        "version": item.version,
        "created_at": item.created,
        "updated_at": item.updated,
    }


def _item(r: Any) -> Item:
    return Item(
        id=int(r.id),
        kind=ItemKind(r.kind),
        ticket_id=r.ticket_id,
        state=ItemState(r.state),
        description=r.description,
        created=r.created_at,
        updated=r.updated_at,
        target_process=r.target_process,
        action=r.action,
        product_id=r.product_id,
        known_error_id=None if r.known_error_id is None else int(r.known_error_id),
        reason=r.reason,
        version=r.version,
    )


def add_item(conn: Connection, item: Item) -> Item:
    """Store a new item; the item with its id."""
    new_id = conn.execute(insert(restoration_item).values(**_item_row(item)).returning(I.id)).scalar_one()
    return _item(conn.execute(select(restoration_item).where(I.id == new_id)).one())


def get_item(conn: Connection, kind: ItemKind, item_id: int, *, for_update: bool = False) -> Item:
    stmt = select(restoration_item).where(I.id == item_id, I.kind == kind.value)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).one_or_none()
    if row is None:
        raise NotFound(f"no {kind.value} with id '{item_id}'", field="id")
    return _item(row)


def save_item(conn: Connection, item: Item, *, previous: Item) -> None:
    """Write `item` only if the stored version is still `previous.version` (Conflict otherwise)."""
    result = conn.execute(
        update(restoration_item)
        .where(I.id == previous.id, I.version == previous.version)
        .values(**_item_row(item))
    )
    if result.rowcount != 1:
        raise Conflict(f"{item.kind.value} '{item.id}' was changed concurrently; try again")


def items_of(conn: Connection, ticket_id: str, kind: ItemKind | None = None) -> list[Item]:
    stmt = select(restoration_item).where(I.ticket_id == ticket_id)
    if kind is not None:
        stmt = stmt.where(I.kind == kind.value)
    return [_item(r) for r in conn.execute(stmt.order_by(I.id))]


def open_items(conn: Connection, ticket_id: str, kind: ItemKind) -> list[Item]:
    states = [ItemState.OPEN.value, ItemState.IN_PROGRESS.value]
    stmt = select(restoration_item).where(I.ticket_id == ticket_id, I.kind == kind.value, I.state.in_(states))
    return [_item(r) for r in conn.execute(stmt.order_by(I.id))]


def find_items(
    conn: Connection, kind: ItemKind, state: ItemState | None, offset: int, limit: int
) -> tuple[list[Item], int]:
    """One page of items of a kind (optionally in one state), oldest first, with the total."""
    where = [I.kind == kind.value]
    if state is not None:
        where.append(I.state == state.value)
    total = int(conn.execute(select(func.count()).select_from(restoration_item).where(*where)).scalar_one())
    stmt = select(restoration_item).where(*where).order_by(I.id).offset(offset).limit(limit)
    return [_item(r) for r in conn.execute(stmt)], total
