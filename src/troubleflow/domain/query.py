"""A neutral query over tickets (conditions, sort, page) and its in-memory evaluation.

The TMF630 parser (api/tmf630.py) builds it from wire parameters; storage compiles it to SQL; the
hub uses `matches` to filter events for a subscription.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    REGEX = "regex"


@dataclass(frozen=True, slots=True)
class Condition:
    """`path` matches any of `values` under `op` (several values = OR)."""

    path: tuple[str, ...]
    op: Op
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class SortKey:
    path: tuple[str, ...]
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in a sorted result (TMF630 v5 `after`/`before`): the sort-key values of one row,
    ending in its id. The page holds the rows after it, or with `before` the rows just before it."""

    values: tuple[Any, ...]
    before: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    conditions: tuple[Condition, ...] = ()
    sort: tuple[SortKey, ...] = ()
    offset: int = 0
    limit: int | None = None
    fields: tuple[str, ...] | None = field(default=None)
    cursor: Cursor | None = None


def matches(document: Any, conditions: tuple[Condition, ...]) -> bool:
    """True when every condition holds on `document` (dotted paths fan out over arrays)."""
    return all(_holds(_resolve(document, c.path), c) for c in conditions)


def _resolve(value: Any, path: tuple[str, ...]) -> list[Any]:
    current = [value]
    for part in path:
        nxt: list[Any] = []
        for item in current:
            items = item if isinstance(item, list) else [item]
            for element in items:
                if isinstance(element, dict) and part in element:
                    nxt.append(element[part])
        current = nxt
    flat: list[Any] = []
    for item in current:
        flat.extend(item if isinstance(item, list) else [item])
    return flat


def _holds(found: list[Any], cond: Condition) -> bool:
    if cond.op is Op.NE:
        return all(not _compare(v, cond.op, want) for v in found for want in cond.values) if found else True
    return any(_compare(v, cond.op, want) for v in found for want in cond.values)


def _compare(have: Any, op: Op, want: Any) -> bool:
    if isinstance(have, datetime) or isinstance(want, datetime):
        have, want = _as_text(have), _as_text(want)
    elif isinstance(have, int | float) and not isinstance(have, bool):
        try:
            want = float(want)
        except (TypeError, ValueError):
            return False
    else:
        have = _as_text(have)
    try:
        if op is Op.EQ:
            return bool(have == want)
        if op is Op.NE:
            return bool(have == want)  # negated by the caller
        if op is Op.REGEX:
            return re.search(str(want), str(have)) is not None
        if op is Op.GT:
            return bool(have > want)
        if op is Op.GTE:
            return bool(have >= want)
        if op is Op.LT:
            return bool(have < want)
        return bool(have <= want)
    except TypeError:
        return False


def _as_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)
