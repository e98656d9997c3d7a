"""Major-outage repository (1.3.7.5.3): what open masters cover (found through an index), their children."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select, tuple_

from troubleflow.domain.outage import OPEN_STATUSES, Key
from troubleflow.storage.tables import outage_child, outage_scope, trouble_ticket

S = outage_scope.c


def cover(conn: Connection, master_id: str, keys: Sequence[Key]) -> None:
    conn.execute(insert(outage_scope), [{"master_id": master_id, "kind": k, "entity_id": e} for k, e in keys])


def open_master_for(conn: Connection, keys: Sequence[Key]) -> tuple[str, Key] | None:
    """The oldest open master covering any of `keys` and the key it covers (None: no major outage touches
    them). The scope index
    finds the candidate masters; only their own rows are read for the status."""
    if not keys:
        return None
    t = trouble_ticket.c
    stmt = (
        select(S.master_id, S.kind, S.entity_id)
        .join(trouble_ticket, t.id == S.master_id)
        .where(tuple_(S.kind, S.entity_id).in_(sorted(set(keys))))
        .where(t.status.in_(sorted(s.value for s in OPEN_STATUSES)))
        .order_by(t.creation_date, t.id)
        .limit(1)
    )
    found = conn.execute(stmt).first()
    return (str(found[0]), (str(found[1]), str(found[2]))) if found is not None else None


def add_child(conn: Connection, master_id: str, child_id: str, now: datetime) -> None:
    conn.execute(insert(outage_child), [{"master_id": master_id, "child_id": child_id, "linked_at": now}])


def children_of(conn: Connection, master_id: str) -> list[str]:
    c = outage_child.c
    stmt = select(c.child_id).where(c.master_id == master_id).order_by(c.linked_at, c.child_id)
    return [str(i) for i in conn.execute(stmt).scalars()]
