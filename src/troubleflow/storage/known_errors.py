"""Known-error repository: insert, read, versioned update, list, hits, and `search`, the one function
that hides how each database does full-text search (SQLite FTS5 with bm25, PostgreSQL tsvector with
ts_rank; the index objects are made by migration 0006)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    and_,
    false,
    func,
    insert,
    literal_column,
    select,
    table,
    text,
    true,
    update,
)

from troubleflow.domain.known_error import FixStatus, KnownError, KnownErrorStatus
from troubleflow.errors import NotFound
from troubleflow.storage.driver import placeholders, select_rows
from troubleflow.storage.tables import known_error, known_error_hit

K = known_error.c
H = known_error_hit.c

# The exact expression of the PostgreSQL GIN index (migration 0006), so the planner can use it.
_PG_DOCUMENT = (
    "to_tsvector('english'::regconfig, coalesce(known_error.title, '') || ' ' || "
    "coalesce(known_error.symptom, '') || ' ' || coalesce(known_error.product, ''))"
)


@dataclass(frozen=True, slots=True)
class Filters:
    category: tuple[str, ...] = ()
    permanent_fix_status: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()  # full-text: any of these stems (as prefixes), best ranked first


def _row(ke: KnownError) -> dict[str, Any]:
    return {
        "version": ke.version,
        "title": ke.title,
        "symptom": ke.symptom,
        "category": ke.category,
        "product": ke.product,
        "root_cause": ke.root_cause,
        "workaround": ke.workaround,
        "permanent_fix_status": ke.permanent_fix_status.value,
        "status": ke.status.value,
        "change_request": ke.change_request,
        "source_ticket_id": ke.source_ticket_id,
        "created": ke.created,
        "updated": ke.updated,
    }


def _known_error(row: Any) -> KnownError:
    return KnownError(
        id=int(row.id),
        version=row.version,
        title=row.title,
        symptom=row.symptom,
        workaround=row.workaround,
        created=row.created,
        updated=row.updated,
        category=row.category,
        product=row.product,
        root_cause=row.root_cause,
        permanent_fix_status=FixStatus(row.permanent_fix_status),
        status=KnownErrorStatus(row.status),
        change_request=row.change_request,
        source_ticket_id=row.source_ticket_id,
    )


def add(conn: Connection, ke: KnownError) -> int:
    """Store a new record; its id."""
    return int(conn.execute(insert(known_error).values(**_row(ke)).returning(K.id)).scalar_one())


def get(conn: Connection, ke_id: int, *, for_update: bool = False) -> KnownError:
    stmt = select(known_error).where(K.id == ke_id)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).one_or_none()
    if row is None:
        raise NotFound(f"no known error with id '{ke_id}'", field="id")
    return _known_error(row)


def save(conn: Connection, ke: KnownError, *, previous: KnownError) -> bool:
    """Write `ke` only if the stored version is still `previous.version`; False means it moved on."""
    result = conn.execute(
        update(known_error).where(K.id == ke.id, K.version == previous.version).values(**_row(ke))
    )
    return result.rowcount == 1


def source_of(conn: Connection, ticket_id: str) -> int | None:
    """The known error created from this report, if any."""
    found = conn.execute(select(K.id).where(K.source_ticket_id == ticket_id).limit(1)).scalar_one_or_none()
    return None if found is None else int(found)


def record_hit(conn: Connection, ke_id: int, ticket_id: str, at: datetime, score: float | None) -> None:
    conn.execute(
        insert(known_error_hit).values(known_error_id=ke_id, ticket_id=ticket_id, at=at, score=score)
    )


def hit_counts(conn: Connection, ke_ids: Sequence[int]) -> dict[int, int]:
    """How many reports each record was linked to (offered or created from)."""
    if not ke_ids:
        return {}
    rows = conn.execute(
        select(H.known_error_id, func.count()).where(H.known_error_id.in_(ke_ids)).group_by(H.known_error_id)
    )
    return {int(k): int(n) for k, n in rows}


def linked_tickets(
    conn: Connection, ke_id: int, limit: int = 100
) -> list[tuple[str, datetime, float | None]]:
    """The latest reports linked to a record: (ticket id, when, score)."""
    rows = conn.execute(
        select(H.ticket_id, H.at, H.score).where(H.known_error_id == ke_id).order_by(H.id.desc()).limit(limit)
    )
    return [(r.ticket_id, r.at, r.score) for r in rows]


def find(conn: Connection, filters: Filters, offset: int, limit: int) -> tuple[list[KnownError], int]:
    """One page of records and the total: best full-text rank first when searching, else newest first."""
    source, where, order = _searched(conn, filters.terms, _where(filters))
    total = int(conn.execute(select(func.count()).select_from(source).where(where)).scalar_one())
    if total == 0 or limit == 0:
        return [], total
    rows = conn.execute(
        select(known_error).select_from(source).where(where).order_by(*order).offset(offset).limit(limit)
    )
    return [_known_error(r) for r in rows], total


def search(
    conn: Connection, terms: Sequence[str], *, categories: Sequence[str] | None = None, limit: int = 20
) -> list[KnownError]:
    """Active records sharing any of `terms` (stems, matched as word prefixes), best ranked first:
    candidates for the matching rule in domain.known_error. `categories` (None: any) narrows them;
    a record without a category is always a candidate."""
    safe = [t for t in terms if t.isalnum()]  # domain terms are word characters: no query syntax
    if not safe:
        return []
    ids = _candidate_ids(conn, safe, categories, limit)
    if not ids:
        return []
    found = {int(r.id): _known_error(r) for r in conn.execute(select(known_error).where(K.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def _candidate_ids(
    conn: Connection, terms: list[str], categories: Sequence[str] | None, limit: int
) -> list[int]:
    """The ranked ids, on the driver: every create runs this, and building it as a Core statement cost
    more than running it (about 1 ms per create, cProfile). Records are read only when there are some."""
    params: list[Any] = []
    where = "k.status = ?"
    if categories is not None:
        where += f" AND (k.category IS NULL OR k.category IN ({placeholders(len(categories))}))"
    if conn.dialect.name == "postgresql":
        query = "to_tsquery('english'::regconfig, ?)"
        document = _PG_DOCUMENT.replace("known_error.", "k.")
        sql = (
            f"SELECT k.id FROM known_error k WHERE {where} AND {document} @@ {query}"
            f" ORDER BY ts_rank({document}, {query}) DESC, k.id DESC LIMIT ?"
        )
        tsquery = " | ".join(f"{t}:*" for t in terms)
        params = [KnownErrorStatus.ACTIVE.value, *(categories or ()), tsquery, tsquery, limit]
    else:
        # bm25 weights: title 4, symptom 1, product 2 (smaller is better, hence ascending).
        sql = (
            "SELECT k.id FROM known_error k JOIN (SELECT rowid AS id, bm25(known_error_fts, 4.0, 1.0, 2.0)"
            " AS rank FROM known_error_fts WHERE known_error_fts MATCH ?) f ON f.id = k.id"
            f" WHERE {where} ORDER BY f.rank, k.id DESC LIMIT ?"
        )
        match = " OR ".join(f'"{t}"*' for t in terms)
        params = [match, KnownErrorStatus.ACTIVE.value, *(categories or ()), limit]
    return [int(r[0]) for r in select_rows(conn, sql, params)]


def _searched(
    conn: Connection, terms: tuple[str, ...], where: ColumnElement[bool]
) -> tuple[FromClause, ColumnElement[bool], list[Any]]:
    """(rows to select from, condition, order) for "any of these terms": OR-ed word prefixes, so a text
    naming only some of a record's words still finds it, and records sharing more words (rarer ones
    weigh more) rank first. Without terms: every record, newest first."""
    if not terms:
        return known_error, where, [K.id.desc()]
    safe = [t for t in terms if t.isalnum()]  # domain terms are word characters: no query syntax
    if not safe:
        return known_error, false(), [K.id.desc()]
    if conn.dialect.name == "postgresql":
        query = func.to_tsquery(literal_column("'english'::regconfig"), " | ".join(f"{t}:*" for t in safe))
        document: ColumnElement[Any] = literal_column(_PG_DOCUMENT)
        matched = document.op("@@")(query)
        return known_error, and_(where, matched), [func.ts_rank(document, query).desc(), K.id.desc()]
    # bm25 weights: title 4, symptom 1, product 2 (smaller is better, hence ascending).
    ranked = (
        select(
            literal_column("rowid").label("id"),
            literal_column("bm25(known_error_fts, 4.0, 1.0, 2.0)").label("rank"),
        )
        .select_from(table("known_error_fts"))
        .where(text("known_error_fts MATCH :fts").bindparams(fts=" OR ".join(f'"{t}"*' for t in safe)))
        .subquery("fts")
    )
    source = known_error.join(ranked, ranked.c.id == K.id)
    return source, where, [ranked.c.rank, K.id.desc()]


def _where(filters: Filters) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [true()]
    for column, values in (
        (K.category, filters.category),
        (K.permanent_fix_status, filters.permanent_fix_status),
        (K.status, filters.status),
    ):
        if values:
            conditions.append(column.in_(values))
    return and_(*conditions)
