"""Major-outage repository (1.3.7.5.3): what open masters cover (found through an index), their children."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from itertools import chain

from sqlalchemy import Connection, insert, select

from troubleflow.domain.outage import OPEN_STATUSES, Key
from troubleflow.storage.driver import placeholders, select_rows
from troubleflow.storage.tables import outage_child, outage_scope

S = outage_scope.c


def cover(conn: Connection, master_id: str, keys: Sequence[Key]) -> None:
    conn.execute(insert(outage_scope), [{"master_id": master_id, "kind": k, "entity_id": e} for k, e in keys])


def open_master_for(conn: Connection, keys: Sequence[Key]) -> tuple[str, Key] | None:
    """The oldest open master covering any of `keys` and the key it covers (None: no major outage touches
    them). The scope index
    finds the candidate masters; only their own rows are read for the status."""
    if not keys:
        return None
    wanted = sorted(set(keys))
    statuses = sorted(s.value for s in OPEN_STATUSES)
    found = select_rows(conn, _open_master_sql(len(wanted), len(statuses)), [*chain(*wanted), *statuses])
    return (str(found[0][0]), (str(found[0][1]), str(found[0][2]))) if found else None


@lru_cache(maxsize=16)
def _open_master_sql(keys: int, statuses: int) -> str:
    """Run on the driver: every create naming a product or service asks, and through Core the row-value
    IN cost 1.4 ms per create. Each (kind, entity) pair is an equality on the scope index."""
    pairs = " OR ".join(["(s.kind = ? AND s.entity_id = ?)"] * keys)
    return (
        "SELECT s.master_id, s.kind, s.entity_id FROM outage_scope s"
        " JOIN trouble_ticket t ON t.id = s.master_id"
        f" WHERE ({pairs}) AND t.status IN ({placeholders(statuses)})"
        " ORDER BY t.creation_date, t.id LIMIT 1"
    )


def add_child(conn: Connection, master_id: str, child_id: str, now: datetime) -> None:
    conn.execute(insert(outage_child), [{"master_id": master_id, "child_id": child_id, "linked_at": now}])


def children_of(conn: Connection, master_id: str) -> list[str]:
    c = outage_child.c
    stmt = select(c.child_id).where(c.master_id == master_id).order_by(c.linked_at, c.child_id)
    return [str(i) for i in conn.execute(stmt).scalars()]
