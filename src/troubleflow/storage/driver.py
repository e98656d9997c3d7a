"""Statements on the driver's shortest path, inside the caller's transaction: small inserts and
point selects on the write path of every create.

A create writes six small rows (ticket, audit entries, tally delta, timer, outbox event). Through a Core
`insert()` each statement cost about 160 us, of which the driver spent 35 us: the rest was statement
caching, parameter processing and result setup in SQLAlchemy (cProfile, bench/README.md). Here the SQL
text is built once per (table, columns, dialect), values go through each column type's bind processor
as Core resolves it (`dialect_impl(dialect).bind_processor`, so a `UtcDateTime` is stored exactly as
Core stores it), and the rows go to the DB-API cursor of the same connection, so they stay in the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Dialect, Table

_Processor = Callable[[Any], Any] | None


def insert_rows(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *, skip_conflicts: bool = False
) -> None:
    """INSERT `rows` (all with the same keys) into `table` in one executemany; with `skip_conflicts`, a
    row that would break a unique key is left out (ON CONFLICT DO NOTHING, on SQLite and PostgreSQL)."""
    if not rows:
        return
    columns = tuple(rows[0])
    sql, processors = _plan(table, columns, conn.dialect, skip_conflicts, None)
    params = [_params(row, columns, processors) for row in rows]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if len(params) == 1:
            cursor.execute(sql, params[0])
        else:
            cursor.executemany(sql, params)
    finally:
        cursor.close()


def insert_returning(
    conn: Connection, table: Table, row: Mapping[str, Any], column: str, *, skip_conflicts: bool = False
) -> Any | None:
    """INSERT one row and return its `column` (e.g. a generated id); None when `skip_conflicts` left the
    row out because it would break a unique key."""
    columns = tuple(row)
    sql, processors = _plan(table, columns, conn.dialect, skip_conflicts, column)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, _params(row, columns, processors))
        found = cursor.fetchone()
    finally:
        cursor.close()
    return None if found is None else found[0]


def _params(
    row: Mapping[str, Any], columns: tuple[str, ...], processors: tuple[_Processor, ...]
) -> tuple[Any, ...]:
    return tuple(p(row[c]) if p is not None else row[c] for c, p in zip(columns, processors, strict=True))


def select_rows(conn: Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of one SELECT written with `?` placeholders (and no other question mark), as tuples.
    For columns that need no conversion (text, numbers): no bind or result processing happens here."""
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, tuple(params))
        return [tuple(r) for r in cursor.fetchall()]
    finally:
        cursor.close()


def placeholders(n: int) -> str:
    """`?, ?, …` for an IN list of `n` values."""
    return ", ".join("?" * n)


@lru_cache(maxsize=64)
def _plan(
    table: Table, columns: tuple[str, ...], dialect: Dialect, skip_conflicts: bool, returning: str | None
) -> tuple[str, tuple[_Processor, ...]]:
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(c) for c in columns)
    values = ", ".join(marker for _ in columns)
    sql = f"INSERT INTO {quote.format_table(table)} ({names}) VALUES ({values})"
    if skip_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning is not None:
        sql += f" RETURNING {quote.quote(returning)}"
    return sql, tuple(table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns)
