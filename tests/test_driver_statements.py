"""The driver-level insert path stores exactly what a Core insert stores, inside the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from troubleflow.storage.db import Database
from troubleflow.storage.driver import insert_returning, insert_rows
from troubleflow.storage.tables import escalation, timer

AT = datetime(2026, 3, 2, 9, 0, 15, tzinfo=UTC)  # whole seconds: the case a naive formatter gets wrong


def _row(ticket_id: str) -> dict[str, object]:
    return {
        "ticket_id": ticket_id,
        "kind": "jeopardy",
        "process_id": "1.3.7.3.4",
        "due_at": AT,
        "state": "armed",
        "payload": "{}",
        "armed_at": AT,
    }


def test_a_fast_insert_stores_the_same_values_as_a_core_insert(db: Database) -> None:
    with db.begin() as conn:
        conn.execute(insert(timer), [_row("core")])
        insert_rows(conn, timer, [_row("fast"), _row("fast-2")])
    with db.read() as conn:
        rows = conn.execute(select(timer.c.ticket_id, timer.c.due_at).order_by(timer.c.id)).all()
        # the stored text too: SQLite orders times as text, so both paths must write the same format
        stored = conn.exec_driver_sql("SELECT DISTINCT CAST(due_at AS TEXT) FROM timer").all()
    assert [r.ticket_id for r in rows] == ["core", "fast", "fast-2"]
    assert {r.due_at for r in rows} == {AT}
    assert len(stored) == 1


def test_a_fast_insert_is_rolled_back_with_its_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError), db.begin() as conn:
        insert_rows(conn, timer, [_row("lost")])
        raise RuntimeError("the use case failed after writing")
    with db.read() as conn:
        assert conn.execute(select(timer.c.id)).first() is None


def test_a_fast_insert_can_skip_a_row_that_breaks_a_unique_key_and_return_the_new_id(db: Database) -> None:
    step = {
        "ticket_id": "t-1",
        "level": 1,
        "cause": "threshold",
        "threshold": 75,
        "actor": "troubleflow",
        "reason": "75 %",
        "at": AT,
    }
    with db.begin() as conn:
        first = insert_returning(conn, escalation, step, "id", skip_conflicts=True)
        again = insert_returning(
            conn, escalation, step, "id", skip_conflicts=True
        )  # (ticket, level) is taken
    assert isinstance(first, int) and again is None
    with db.read() as conn:
        assert conn.execute(select(escalation.c.id)).scalars().all() == [first]
