"""TMF630 query rules: attribute filters (operators, OR, quotes, dotted paths), fields, sort, paging."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from troubleflow.api.representation import Representation
from troubleflow.domain.query import Condition, Cursor, Op, Query, SortKey
from troubleflow.domain.ticket import LIST_FIELDS
from troubleflow.errors import InvalidInput, Unsupported

RESERVED = frozenset({"fields", "offset", "limit", "sort", "before", "after"})
UNSUPPORTED = frozenset({"filter"})
PAGING = frozenset({"offset", "before", "after"})  # replaced, not kept, in a Link to another page
MAX_PAGE = 1000
MAX_OFFSET = 2**63 - 1  # SQLite INTEGER and PostgreSQL bigint
_SPLIT = re.compile(r"^(?P<key>[^<>=!~]+?)(?P<op>>=|<=|!=|=~|>|<|=)(?P<value>.*)$", re.S)
_SYMBOLS = {">=": Op.GTE, "<=": Op.LTE, ">": Op.GT, "<": Op.LT, "=~": Op.REGEX, "!=": Op.NE, "=": Op.EQ}
_SUFFIXES = {
    "gt": Op.GT,
    "gte": Op.GTE,
    "lt": Op.LT,
    "lte": Op.LTE,
    "regex": Op.REGEX,
    "eq": Op.EQ,
    "ne": Op.NE,
}
_DATE_COLUMNS = frozenset(
    {
        "creation_date",
        "last_update",
        "status_change_date",
        "requested_resolution_date",
        "expected_resolution_date",
        "resolution_date",
    }
)


def split_query(raw: str) -> list[tuple[str, Op, str]]:
    """Split a raw query string into (key, operator, value) keeping symbol operators intact."""
    parts: list[tuple[str, Op, str]] = []
    for piece in raw.split("&"):
        if not piece:
            continue
        decoded = unquote_plus(piece)
        if "\x00" in decoded:
            raise InvalidInput("query parameters must not contain the NUL character")
        match = _SPLIT.match(decoded)
        if match is None:
            raise InvalidInput(f"cannot read the query parameter '{decoded}'")
        key, op = match["key"].strip(), _SYMBOLS[match["op"]]
        head, _, suffix = key.rpartition(".")
        if head and suffix in _SUFFIXES and op is Op.EQ:
            key, op = head, _SUFFIXES[suffix]
        parts.append((key, op, match["value"]))
    return parts


def conditions(
    parts: list[tuple[str, Op, str]], reserved: frozenset[str]
) -> list[tuple[tuple[str, ...], Op, tuple[str, ...]]]:
    """Group filters: the same attribute and operator repeated, or comma-separated values, mean OR."""
    grouped: dict[tuple[str, Op], list[str]] = {}
    for key, op, value in parts:
        if key in reserved:
            continue
        grouped.setdefault((key, op), []).extend(_values(value))
    return [(tuple(key.split(".")), op, tuple(vals)) for (key, op), vals in grouped.items()]


def _values(value: str) -> list[str]:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return [value[1:-1]]
    return [v[1:-1] if len(v) >= 2 and v[0] == v[-1] == '"' else v for v in re.split(r"[,;]", value)]


def parse_list(raw: str, rep: Representation) -> Query:
    parts = split_query(raw)
    for key, _op, _value in parts:
        if key in UNSUPPORTED:
            raise Unsupported(
                f"the '{key}' query parameter is not supported; use attribute filters and offset/limit"
            )
    params = {k: v for k, op, v in parts if k in RESERVED and op is Op.EQ}
    conds = tuple(
        _domain_condition(path, op, values, rep) for path, op, values in conditions(parts, RESERVED)
    )
    sort = _sort(params.get("sort"), rep)
    return Query(
        conditions=conds,
        sort=sort,
        offset=whole_number(params, "offset", 0),
        limit=_limit(params),
        fields=parse_fields(params.get("fields")),
        cursor=_cursor(params, sort),
    )


def encode_cursor(sort: tuple[SortKey, ...], key: tuple[Any, ...]) -> str:
    """The opaque `after`/`before` value for a row: its sort-key values, tagged with the sort order."""
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    raw = json.dumps([_signature(sort), *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _cursor(params: dict[str, str], sort: tuple[SortKey, ...]) -> Cursor | None:
    if "after" in params and "before" in params:
        raise InvalidInput("use either 'after' or 'before', not both", field="before")
    name = "after" if "after" in params else "before" if "before" in params else None
    if name is None:
        return None
    raw = params[name].strip()
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error):
        data = None
    if not isinstance(data, list) or len(data) < 2:
        raise InvalidInput(
            f"'{name}' is not a cursor this server issued (take it from a Link header)", field=name
        )
    if data[0] != _signature(sort):
        raise InvalidInput(f"the '{name}' cursor was issued for another sort order", field=name)
    return Cursor(tuple(data[1:]), before=name == "before")


def _signature(sort: tuple[SortKey, ...]) -> str:
    return ",".join(("-" if k.descending else "") + ".".join(k.path) for k in sort)


def parse_fields(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(f.strip() for f in value.split(",") if f.strip())


def fields_of(raw: str) -> tuple[str, ...] | None:
    for key, op, value in split_query(raw):
        if key == "fields" and op is Op.EQ:
            return parse_fields(value)
    return None


def project(doc: dict[str, Any], fields: tuple[str, ...] | None, identity: frozenset[str]) -> dict[str, Any]:
    if fields is None:
        return doc
    keep = set(fields) | identity
    return {k: v for k, v in doc.items() if k in keep}


def _domain_condition(
    path: tuple[str, ...], op: Op, values: tuple[str, ...], rep: Representation
) -> Condition:
    dpath = rep.domain_path(path)
    typed: tuple[Any, ...] = values
    if len(dpath) == 1 and dpath[0] in _DATE_COLUMNS:
        typed = tuple(_date(v, ".".join(path)) for v in values)
    return Condition(dpath, op, typed)


def _date(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise InvalidInput(
            f"'{value}' is not an ISO 8601 date-time (filter on '{name}')", field=name
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _sort(value: str | None, rep: Representation) -> tuple[SortKey, ...]:
    if not value:
        return ()
    keys = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        descending = item.startswith("-")
        name = item.lstrip("+-").strip()
        path = rep.domain_path(tuple(name.split(".")))
        if len(path) > 1 and path[0] in LIST_FIELDS:
            raise InvalidInput(f"cannot sort by '{name}': it is inside a list", field="sort")
        keys.append(SortKey(path, descending))
    return tuple(keys)


def equality_filters(raw: str, allowed: frozenset[str]) -> dict[str, str]:
    """The parameters of a simple listing: only `allowed` keys, only `=` (the last value of a repeated
    key wins); anything else is a 400 TMF error naming what may be used."""
    single: dict[str, str] = {}
    for key, op, value in split_query(raw):
        if key not in allowed or op is not Op.EQ:
            raise InvalidInput(f"cannot filter by '{key}' (use {', '.join(sorted(allowed))})", field=key)
        single[key] = value
    return single


def whole_number(params: dict[str, str], name: str, default: int) -> int:
    """A non-negative whole-number parameter (offset, limit), bounded; 400 TMF error otherwise."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"'{name}' must be a whole number, not '{raw}'", field=name) from None
    if value < 0:
        raise InvalidInput(f"'{name}' must not be negative", field=name)
    if value > MAX_OFFSET:
        raise InvalidInput(f"'{name}' must be at most {MAX_OFFSET}", field=name)
    return value


def _limit(params: dict[str, str]) -> int:
    limit = whole_number(params, "limit", MAX_PAGE)
    return min(limit, MAX_PAGE)
