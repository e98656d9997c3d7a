"""Ticket counts per (status, severity, priority, ticket_type): kept as signed deltas in the writer's
transaction, summed to answer `X-Total-Count` for filters on those columns, folded by the worker."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, func, select

from troubleflow.domain.query import Condition
from troubleflow.storage.driver import insert_rows
from troubleflow.storage.tables import ticket_tally

Key = tuple[str, str, str | None, str]  # status, severity, priority, ticket_type
KEY_COLUMNS = ("status", "severity", "priority", "ticket_type")
# Fold once this many delta rows have piled up: a count sums every row (measured: 93 us over a folded
# tally, 165 us with 2,000 deltas pending, 102 us for an index count at 20k tickets).
FOLD_AFTER_ROWS = 200


def key_of(row: dict[str, Any]) -> Key:
    return (row["status"], row["severity"], row["priority"], row["ticket_type"])


def record(conn: Connection, changes: Iterable[tuple[Key, int]]) -> None:
    """Add the deltas (+1 for a ticket entering a key, -1 for one leaving it) in one statement."""
    net: Counter[Key] = Counter()
    for key, n in changes:
        net[key] += n
    rows = [dict(zip(KEY_COLUMNS, key, strict=True), n=n) for key, n in net.items() if n]
    insert_rows(conn, ticket_tally, rows)


def moved(old: Key, new: Key) -> list[tuple[Key, int]]:
    """The deltas of one ticket changing from `old` to `new` (none when the key stays)."""
    return [] if old == new else [(old, -1), (new, 1)]


def can_count(conditions: tuple[Condition, ...]) -> bool:
    """Whether every condition is on a tallied column, so the tally answers the count exactly."""
    return all(len(c.path) == 1 and c.path[0] in KEY_COLUMNS for c in conditions)


def count_statement(where: Any) -> Any:
    return select(func.coalesce(func.sum(ticket_tally.c.n), 0)).where(where)


def pending_rows(conn: Connection) -> int:
    """How many rows the tally holds beyond one per key: an estimate from the id range (no scan)."""
    low, high = conn.execute(select(func.min(ticket_tally.c.id), func.max(ticket_tally.c.id))).one()
    return 0 if low is None else int(high) - int(low) + 1


def fold(conn: Connection) -> int:
    """Replace the rows this transaction sees by one row per key. DELETE … RETURNING reads and removes
    the same rows in one statement, so a delta committed meanwhile is neither lost nor counted twice
    (it is simply not deleted). Returns how many rows were folded."""
    c = ticket_tally.c
    removed = conn.execute(
        delete(ticket_tally).returning(c.status, c.severity, c.priority, c.ticket_type, c.n)
    )
    net: Counter[Key] = Counter()
    folded = 0
    for status, severity, priority, ticket_type, n in removed:
        net[(status, severity, priority, ticket_type)] += int(n)
        folded += 1
    record(conn, net.items())
    return folded
