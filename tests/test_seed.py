"""The bulk loader builds valid reports through the domain and writes them with their audit rows."""

from __future__ import annotations

import itertools
import multiprocessing
import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from troubleflow.domain.policy import active_policy
from troubleflow.domain.status import TRANSITIONS, Status
from troubleflow.policy_files import load_policies
from troubleflow.processes import seed
from troubleflow.processes.seed import seed_reports, synthetic_tickets
from troubleflow.storage.codec import decode_ticket
from troubleflow.storage.db import Database
from troubleflow.storage.tables import ticket_history, trouble_ticket


def test_synthetic_reports_follow_the_lifecycle_table() -> None:
    for ticket in synthetic_tickets(300):
        path = [c.status for c in ticket.status_change]
        assert path[0] is Status.ACKNOWLEDGED
        assert all(b in TRANSITIONS[a] for a, b in itertools.pairwise(path))
        assert ticket.status is path[-1] and ticket.version == len(path)
        assert (ticket.resolution_date is not None) == (Status.RESOLVED in path)


def test_seed_writes_every_report_and_its_creation_audit_row(db: Database) -> None:
    progress: list[int] = []

    written = seed_reports(db, 1234, batch=500, progress=progress.append)

    with db.read() as conn:
        tickets = conn.execute(select(func.count()).select_from(trouble_ticket)).scalar_one()
        audit = conn.execute(
            select(func.count()).select_from(ticket_history).where(ticket_history.c.process_id == "1.3.7.5.1")
        ).scalar_one()
    assert written == tickets == audit == 1234
    assert progress == [500, 500, 234]


def test_a_large_seed_built_in_a_second_process_writes_the_same_reports(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seed, "PARALLEL_FROM", 1000)  # take the two-process path on a small load

    written = seed_reports(db, 1500, batch=400)

    with db.read() as conn:
        t = trouble_ticket.c
        stored = sorted(conn.execute(select(t.creation_date, t.status, t.severity, t.name)).all())
    expected = sorted((r.creation_date, r.status.value, r.severity, r.name) for r in synthetic_tickets(1500))
    assert written == 1500
    assert stored == expected  # the same reports the in-process generator builds


def test_a_failure_while_building_seed_batches_is_reported() -> None:
    broken = seed._Plan(50, 10, None, False, None, datetime.now(UTC))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="building the seed batches failed: TypeError"):
        list(seed._built_elsewhere(broken))


def test_a_builder_process_that_dies_without_a_word_fails_the_seed_instead_of_hanging() -> None:
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[object] = context.Queue()
    child = context.Process(target=os._exit, args=(3,))  # dies before it can report anything
    child.start()
    child.join()
    with pytest.raises(RuntimeError, match=r"builder process exited \(3\)"):
        seed._next_from(queue, child)  # type: ignore[arg-type]


def test_a_backlog_with_timers_is_under_track_and_manage_in_both_seed_paths(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seed, "PARALLEL_FROM", 1000)  # the second process gets the states, not the policy
    policy = active_policy(load_policies(), datetime(2026, 3, 2, tzinfo=UTC))

    seed_reports(db, 1500, batch=400, open_only=True, due_timers=10, policy=policy)

    with db.read() as conn:
        docs = conn.execute(select(trouble_ticket.c.doc)).scalars().all()
    tracked = [decode_ticket(d).tracking for d in docs]
    assert len(docs) == 1500 and all(t is not None and t.policy_version == policy.version for t in tracked)
