"""Ticket repository: insert, read, versioned update, delete, and list with total count."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    String,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    type_coerce,
    update,
)

from troubleflow.domain.query import Query, SortKey
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import Conflict, NotFound
from troubleflow.storage import tally
from troubleflow.storage.codec import decode_ticket, encode_ticket
from troubleflow.storage.db import Database
from troubleflow.storage.driver import insert_rows
from troubleflow.storage.tables import trouble_ticket
from troubleflow.storage.ticket_query import (
    keyset_clause,
    keyset_pageable,
    order_by,
    sort_keys,
    tally_where,
    where_clause,
)

T = trouble_ticket.c


def _row(ticket: TroubleTicket, doc: str) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "version": ticket.version,
        "type_name": ticket.type_name,
        "name": ticket.name,
        "status": ticket.status.value,
        "severity": ticket.severity,
        "priority": ticket.priority,
        "ticket_type": ticket.ticket_type,
        "external_id": ticket.external_identifier[0].id if ticket.external_identifier else None,
        "channel_id": ticket.channel.id if ticket.channel else None,
        "creation_date": ticket.creation_date,
        "last_update": ticket.last_update,
        "status_change_date": ticket.status_change_date,
        "requested_resolution_date": ticket.requested_resolution_date,
        "expected_resolution_date": ticket.expected_resolution_date,
        "resolution_date": ticket.resolution_date,
        "doc": doc,
    }


def add(conn: Connection, ticket: TroubleTicket) -> str:
    doc = encode_ticket(ticket)
    row = _row(ticket, doc)
    insert_rows(conn, trouble_ticket, [row])
    tally.record(conn, [(tally.key_of(row), 1)])
    return doc


def row_of(ticket: TroubleTicket) -> dict[str, Any]:
    """The table row of a new ticket, document encoded (the seed loader builds these in another process)."""
    return _row(ticket, encode_ticket(ticket))


def add_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(insert(trouble_ticket), rows)
    tally.record(conn, ((tally.key_of(r), 1) for r in rows))


def get(conn: Connection, ticket_id: str) -> TroubleTicket:
    return decode_ticket(get_doc(conn, ticket_id))


_LOOKUP = "SELECT version, doc FROM trouble_ticket WHERE id = ?"


def lookup(db: Database, ticket_id: str) -> tuple[int, str]:
    """(version, stored document) of one ticket, by the driver's shortest path (see Database.lookup)."""
    row = db.lookup(_LOOKUP, (ticket_id,))
    if row is None:
        raise NotFound(f"no trouble ticket with id '{ticket_id}'", field="id")
    return int(row[0]), str(row[1])


def get_for_update(conn: Connection, ticket_id: str) -> TroubleTicket:
    """Read a ticket to change it: on PostgreSQL the row stays locked until the transaction ends, so
    writers queue up instead of racing (SQLite's BEGIN IMMEDIATE already admits one writer)."""
    return decode_ticket(get_doc(conn, ticket_id, for_update=True))


def get_doc(conn: Connection, ticket_id: str, *, for_update: bool = False) -> str:
    stmt = select(T.doc).where(T.id == ticket_id)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    doc = conn.execute(stmt).scalar_one_or_none()
    if doc is None:
        raise NotFound(f"no trouble ticket with id '{ticket_id}'", field="id")
    return str(doc)


def save(conn: Connection, ticket: TroubleTicket, *, previous: TroubleTicket) -> str | None:
    """Write `ticket` only if the stored version is still `previous.version`; None means it moved on."""
    doc = encode_ticket(ticket)
    new, old = _row(ticket, doc), _row(previous, "")
    result = conn.execute(
        update(trouble_ticket)
        .where(T.id == ticket.id, T.version == previous.version)
        .values(**_changed_columns(new, old))
    )
    if result.rowcount != 1:
        return None
    tally.record(conn, tally.moved(tally.key_of(old), tally.key_of(new)))
    return doc


def _changed_columns(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """Only the columns whose value changed (plus doc and version): SQLite rewrites the entries of
    every index on a column named in SET, so naming all 16 mirror columns made each save rewrite
    every index of the table."""
    return {k: v for k, v in new.items() if k in ("doc", "version") or (k != "id" and v != old[k])}


def get_many_for_update(conn: Connection, ticket_ids: Sequence[str]) -> dict[str, TroubleTicket]:
    """The existing tickets among `ticket_ids`, locked for this transaction on PostgreSQL."""
    stmt = select(T.doc).where(T.id.in_(sorted(set(ticket_ids))))
    if conn.dialect.name == "postgresql":
        stmt = stmt.order_by(T.id).with_for_update()  # in id order: two batches never deadlock
    found = (decode_ticket(str(d)) for d in conn.execute(stmt).scalars())
    return {t.id: t for t in found}


def save_many(conn: Connection, changed: Sequence[tuple[TroubleTicket, TroubleTicket]]) -> list[str]:
    """Write each (ticket, previous state) in one executemany; the documents, in order. Raises
    Conflict if any stored version moved on (callers hold the rows locked, so it means a bug)."""
    docs = [encode_ticket(t) for t, _ in changed]
    new_rows = [_row(t, doc) for (t, _), doc in zip(changed, docs, strict=True)]
    old_rows = [_row(p, "") for _, p in changed]
    columns = set().union(*(_changed_columns(n, o) for n, o in zip(new_rows, old_rows, strict=True)))
    rows = [
        {**{k: n[k] for k in columns}, "_id": n["id"], "_expected": p.version}
        for n, (_, p) in zip(new_rows, changed, strict=True)
    ]
    if rows:
        stmt = (
            update(trouble_ticket)
            .where(T.id == bindparam("_id"), T.version == bindparam("_expected"))
            .values({k: bindparam(k) for k in sorted(columns)})
        )
        result = conn.execute(stmt, rows)
        if result.rowcount != len(rows):
            raise Conflict(f"{len(rows) - result.rowcount} of {len(rows)} tickets changed concurrently")
        tally.record(
            conn,
            (
                d
                for n, o in zip(new_rows, old_rows, strict=True)
                for d in tally.moved(tally.key_of(o), tally.key_of(n))
            ),
        )
    return docs


def remove(conn: Connection, ticket_id: str, *, expected_version: int | None = None) -> bool:
    stmt = delete(trouble_ticket).where(T.id == ticket_id)
    if expected_version is not None:
        stmt = stmt.where(T.version == expected_version)
    gone = conn.execute(stmt.returning(T.status, T.severity, T.priority, T.ticket_type)).one_or_none()
    if gone is None:
        return False
    tally.record(conn, [((gone[0], gone[1], gone[2], gone[3]), -1)])
    return True


@lru_cache(maxsize=512)
def page_statements(query: Query, dialect: str) -> tuple[Select[Any], Select[Any]]:
    """The two list statements: the page's (id, version, doc, *sort keys) rows, and the count of all
    matches (without the cursor).

    The count comes from the tally when every filter is on a tallied column (status, severity,
    priority, ticket_type): a sum over a few hundred rows instead of a walk over every match.
    The page is found in two steps: its ids by walking an index (skipping `offset` entries without
    reading any document), then only those documents. A single SELECT doc … OFFSET reads every
    skipped row. A cursor (`after`/`before`) starts the walk at its position instead, so a page deep
    in the collection costs what the first page costs. tests/test_query_plans.py checks that neither
    statement scans the ticket table.

    Building the statements cost more than running them (SQLAlchemy Core construction, about 0.4 ms),
    and dashboards repeat the same queries, so they are kept per query (statements are immutable).
    """
    where = where_clause(query.conditions, dialect)
    if tally.can_count(query.conditions):
        count = tally.count_statement(tally_where(query.conditions, dialect))
    else:
        count = select(func.count()).select_from(trouble_ticket).where(where)
    sort = query.sort or (SortKey(("creation_date",)),)
    if query.cursor is not None:
        where = and_(where, keyset_clause(sort, query.cursor))
        if query.cursor.before:  # walk backwards from the cursor; find() restores the order
            sort = tuple(SortKey(k.path, not k.descending) for k in sort)
    keys = order_by(sort, dialect)
    ids = select(T.id).where(where).order_by(*keys).offset(query.offset)
    if query.limit is not None:
        ids = ids.limit(query.limit)
    page = ids.subquery("page")
    # Sort-key values come back as the driver gives them: only the first and last row's are used (for
    # cursors), and SQLAlchemy's datetime parsing of 50 values per page cost a third of a list query.
    key_columns = [type_coerce(c, String) for c, _ in sort_keys(sort)] if keyset_pageable(sort) else []
    rows = select(T.id, T.version, T.doc, *key_columns).join(page, T.id == page.c.id).order_by(*keys)
    return rows, count


Row = tuple[str, int, str, tuple[Any, ...]]


def find(conn: Connection, query: Query) -> tuple[list[Row], int]:
    """One page of (id, version, stored document, sort-key values) and the number of all matches.
    The sort-key values (empty for a sort that cannot be keyset-paged) are what a cursor holds."""
    rows, count = page_statements(query, conn.dialect.name)
    docs = [(str(r[0]), int(r[1]), str(r[2]), tuple(r[3:])) for r in conn.execute(rows)]
    if query.cursor is not None and query.cursor.before:
        docs.reverse()
    whole = query.offset == 0 and query.cursor is None
    if whole and (query.limit is None or len(docs) < query.limit):
        total = len(docs)  # the page holds every match: no second query needed
    else:
        total = int(conn.execute(count).scalar_one())
    return docs, total
