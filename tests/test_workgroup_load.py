"""The workgroup load (open tasks per workgroup, what assignment compares) is kept as deltas in each task
change's transaction; it always equals a real count of open tasks, through planning, working, cancelling,
deleting and folding."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from troubleflow.config import Settings
from troubleflow.storage import workload
from troubleflow.storage.db import Database
from troubleflow.storage.tables import task, workgroup_load
from troubleflow.worker import Worker

from .conftest import api, finish_work_plan, ticket_body

MERGE = {"Content-Type": "application/merge-patch+json"}


def _real_counts(db: Database) -> dict[str, int]:
    k = task.c
    with db.read() as conn:
        rows = conn.execute(
            select(k.workgroup, func.count())
            .where(k.workgroup.is_not(None), k.state.in_(["waiting", "ready", "inProgress"]))
            .group_by(k.workgroup)
        )
        return {str(w): int(n) for w, n in rows}


def _tallied(db: Database, workgroups: list[str]) -> dict[str, int]:
    with db.read() as conn:
        return {w: n for w, n in workload.open_tasks(conn, workgroups).items() if n}


def _report(client: TestClient, description: str) -> str:
    r = client.post(api("v4") + "/troubleTicket", json=ticket_body("v4", description=description))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_the_workgroup_load_equals_the_open_tasks_through_every_change(
    client: TestClient, db: Database, settings: Settings
) -> None:
    ids = [_report(client, d) for d in ("No internet since 08:10", "Fibre cut on the street", "No dial tone")]
    every = sorted({*_real_counts(db)})
    assert _tallied(db, every) == _real_counts(db) != {}

    finish_work_plan(client, ids[0])  # done tasks leave the load
    cancel = {"status": "cancelled", "statusChangeReason": "duplicate"}
    assert client.patch(f"{api('v4')}/troubleTicket/{ids[1]}", json=cancel, headers=MERGE).status_code == 200
    assert client.delete(f"{api('v4')}/troubleTicket/{ids[2]}").status_code == 204
    assert _tallied(db, every) == _real_counts(db)

    with db.begin() as conn:
        assert workload.fold(conn) > 0
    assert _tallied(db, every) == _real_counts(db)
    Worker(db, settings).fold_tally()  # folding again changes nothing
    assert _tallied(db, every) == _real_counts(db)


def test_without_a_worker_a_writer_folds_the_load_before_it_grows_long(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workload, "FOLD_IN_PLACE_AFTER", 2)
    for i in range(6):
        _report(client, f"No internet since 08:1{i}")
    with db.read() as conn:
        rows = conn.execute(select(func.count()).select_from(workgroup_load)).scalar_one()
    every = sorted({*_real_counts(db)})
    assert rows < 18  # folded on the way: without it, 3 delta rows per report
    assert _tallied(db, every) == _real_counts(db)
