"""Compile a neutral `Query` into SQL over `trouble_ticket`: indexed columns where they exist, JSON
functions over the stored document otherwise (SQLite JSON1, PostgreSQL jsonb)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.sql.elements import ColumnClause

from troubleflow.domain.query import Condition, Cursor, Op, SortKey
from troubleflow.domain.ticket import LIST_FIELDS
from troubleflow.errors import InvalidInput, Unsupported
from troubleflow.storage.tables import ticket_tally, trouble_ticket

T = trouble_ticket.c

COLUMNS: dict[str, ColumnClause[Any]] = {
    "id": T.id,
    "type_name": T.type_name,
    "name": T.name,
    "status": T.status,
    "severity": T.severity,
    "priority": T.priority,
    "ticket_type": T.ticket_type,
    "external_id": T.external_id,
    "channel_id": T.channel_id,
    "creation_date": T.creation_date,
    "last_update": T.last_update,
    "status_change_date": T.status_change_date,
    "requested_resolution_date": T.requested_resolution_date,
    "expected_resolution_date": T.expected_resolution_date,
    "resolution_date": T.resolution_date,
}
DATE_COLUMNS = frozenset(k for k in COLUMNS if k.endswith("_date") or k == "last_update")


def where_clause(conditions: tuple[Condition, ...], dialect: str) -> ColumnElement[bool]:
    return and_(*(_condition(c, dialect) for c in conditions)) if conditions else true()


def tally_where(conditions: tuple[Condition, ...], dialect: str) -> ColumnElement[bool]:
    """The same conditions over the tally's columns (storage.tally.can_count says when that is exact)."""
    return (
        and_(*(_compare(ticket_tally.c[c.path[0]], c.op, c.values, dialect) for c in conditions))
        if conditions
        else true()
    )


# Keyset (cursor) paging needs sort keys that are never NULL: NULLs sort first on SQLite and last on
# PostgreSQL, and a row comparison with NULL is unknown, so a cursor over them could skip rows.
KEYSET_COLUMNS = frozenset(
    {"id", "type_name", "status", "severity", "ticket_type", "creation_date", "last_update"}
)


def sort_keys(sort: tuple[SortKey, ...]) -> list[tuple[ColumnClause[Any], bool]]:
    """The (column, descending) keys of a keyset-pageable sort, ending in id (as `order_by` does)."""
    if not sort:
        sort = (SortKey(("creation_date",)),)
    keys: list[tuple[ColumnClause[Any], bool]] = []
    for key in sort:
        name = key.path[0]
        if not _keyset_key(key):
            raise Unsupported(
                f"cursor paging (before/after) needs a sort on {', '.join(sorted(KEYSET_COLUMNS))}; "
                f"use offset for a sort on '{'.'.join(key.path)}'"
            )
        keys.append((COLUMNS[name], key.descending))
    if not any(c is T.id for c, _ in keys):
        keys.append((T.id, sort[-1].descending))
    return keys


def keyset_pageable(sort: tuple[SortKey, ...]) -> bool:
    return all(_keyset_key(k) for k in sort)


def _keyset_key(key: SortKey) -> bool:
    return len(key.path) == 1 and key.path[0] in KEYSET_COLUMNS


def keyset_clause(sort: tuple[SortKey, ...], cursor: Cursor) -> ColumnElement[bool]:
    """Rows strictly after (or before) the cursor in sort order. With one direction it is a row-value
    comparison, (k1, k2, id) > (v1, v2, w), which both databases answer as a range of the sort index
    (so any depth costs what the first page costs); mixed directions expand to (k1 > v1) OR (k1 = v1
    AND k2 < v2) …"""
    keys = sort_keys(sort)
    if len(cursor.values) != len(keys):
        raise InvalidInput("the cursor does not belong to this sort order", field="after")
    values = [_cursor_value(col, v) for (col, _), v in zip(keys, cursor.values, strict=True)]
    if len({descending for _, descending in keys}) == 1:
        row, position = tuple_(*(c for c, _ in keys)), tuple_(*values)
        return row > position if keys[0][1] == cursor.before else row < position
    branches = []
    for i, (column, descending) in enumerate(keys):
        later = descending == cursor.before  # the direction that moves away from the cursor
        step = column > values[i] if later else column < values[i]
        branches.append(and_(*(keys[j][0] == values[j] for j in range(i)), step))
    return or_(*branches)


def _cursor_value(column: ColumnClause[Any], value: Any) -> Any:
    if column.name in DATE_COLUMNS:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise InvalidInput("the cursor is not valid", field="after") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite keeps naive UTC
    if not isinstance(value, str):
        raise InvalidInput("the cursor is not valid", field="after")
    return value


def order_by(sort: tuple[SortKey, ...], dialect: str) -> list[Any]:
    keys: list[Any] = []
    for key in sort:
        expr = _scalar_expr(key.path, dialect)
        keys.append(expr.desc() if key.descending else expr.asc())
    if not sort:  # no order asked for: creation order, oldest first (stable across pages)
        keys.append(T.creation_date.asc())
    if not any(k.path == ("id",) for k in sort):
        keys.append(T.id.desc() if sort and sort[-1].descending else T.id.asc())
    return keys


def _condition(cond: Condition, dialect: str) -> ColumnElement[bool]:
    head = cond.path[0]
    if len(cond.path) == 1 and head in COLUMNS:
        column = COLUMNS[head]
        values = tuple(_coerce_date(v, head) for v in cond.values) if head in DATE_COLUMNS else cond.values
        return _compare(column, cond.op, values, dialect)
    if head in LIST_FIELDS and len(cond.path) > 1:
        return _array_exists(cond, dialect)
    return _compare(_scalar_expr(cond.path, dialect), cond.op, cond.values, dialect)


def _compare(expr: Any, op: Op, values: tuple[Any, ...], dialect: str) -> ColumnElement[bool]:
    if op is Op.EQ:
        return expr == values[0] if len(values) == 1 else expr.in_(values)  # type: ignore[no-any-return]
    if op is Op.NE:
        return not_(expr.in_(values))  # type: ignore[no-any-return]
    if op is Op.REGEX:
        for pattern in values:
            _check_regex(pattern)
        if dialect == "postgresql":
            return or_(*(expr.op("~")(v) for v in values))
        return or_(*(func.regexp(v, expr) == 1 for v in values))
    method = {Op.GT: "__gt__", Op.GTE: "__ge__", Op.LT: "__lt__", Op.LTE: "__le__"}[op]
    return or_(*(getattr(expr, method)(v) for v in values))


def _scalar_expr(path: tuple[str, ...], dialect: str) -> Any:
    if len(path) == 1 and path[0] in COLUMNS:
        return COLUMNS[path[0]]
    if dialect == "postgresql":
        return literal_column(f"(trouble_ticket.doc::jsonb) #>> '{{{','.join(_safe(p) for p in path)}}}'")
    return func.json_extract(T.doc, "$." + ".".join(f'"{_safe(p)}"' for p in path))


def _array_exists(cond: Condition, dialect: str) -> ColumnElement[bool]:
    head, rest = cond.path[0], cond.path[1:]
    element: ColumnElement[Any]
    if dialect == "postgresql":
        element = literal_column(f"j.value #>> '{{{','.join(_safe(p) for p in rest)}}}'")
        inner = _compare(element, cond.op, cond.values, dialect)
        source = (
            f"jsonb_array_elements(CASE WHEN jsonb_typeof((trouble_ticket.doc::jsonb)->'{_safe(head)}')"
            f" = 'array' THEN (trouble_ticket.doc::jsonb)->'{_safe(head)}' ELSE '[]'::jsonb END) AS j"
        )
    else:
        element = func.json_extract(literal_column("j.value"), "$." + ".".join(f'"{_safe(p)}"' for p in rest))
        inner = _compare(element, cond.op, cond.values, dialect)
        source = f"json_each(trouble_ticket.doc, '$.{_safe(head)}') AS j"
    sub: Select[Any] = select(literal_column("1")).select_from(text(source)).where(inner)
    if cond.op is Op.NE:  # "no element equals any value"
        positive = _compare(element, Op.EQ, cond.values, dialect)
        return not_(exists(select(literal_column("1")).select_from(text(source)).where(positive)))
    return exists(sub)


def _safe(part: str) -> str:
    """Path segments come from the client: allow identifier characters only (no SQL injection)."""
    if not part or not all(ch.isalnum() or ch in "_@-" for ch in part):
        raise InvalidInput(f"'{part}' is not a valid attribute name for filtering or sorting")
    return part


def _coerce_date(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        return value
    raise InvalidInput(f"'{value}' is not a date-time for '{name}'", field=name)


def _check_regex(pattern: Any) -> None:
    import re

    try:
        re.compile(str(pattern))
    except re.error as exc:
        raise InvalidInput(f"invalid regular expression '{pattern}': {exc}") from None
