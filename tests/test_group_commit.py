"""SQLite write path: concurrent write transactions share one commit, each stays atomic and durable."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from troubleflow.storage.db import Database
from troubleflow.storage.group_commit import GroupCommitFailed


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Database]:
    db = Database.from_url(f"sqlite:///{tmp_path}/group.db")
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE item (name TEXT PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        conn.execute(
            text("CREATE TABLE child (parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")
        )
    yield db
    db.dispose()


def _names(db: Database) -> set[str]:
    with db.read() as conn:
        return set(conn.execute(text("SELECT name FROM item")).scalars())


def _queue_behind(db: Database, first_block: threading.Event, release: threading.Event) -> None:
    """Hold the shared transaction open until `release`, so the next caller joins the same group."""
    with db.begin() as conn:
        conn.execute(text("INSERT INTO item VALUES ('first')"))
        first_block.set()
        release.wait(5)


def _wait_until_queued(db: Database) -> None:
    group = db._group
    assert group is not None
    while group.waiting == 0:
        threading.Event().wait(0.001)


def test_concurrent_writers_all_commit(store: Database) -> None:
    def write(i: int) -> None:
        with store.begin() as conn:
            conn.execute(text("INSERT INTO item VALUES (:n)"), {"n": f"item-{i}"})

    threads = [threading.Thread(target=write, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _names(store) == {f"item-{i}" for i in range(32)}


def test_a_failing_block_rolls_back_only_its_own_changes(store: Database) -> None:
    inside, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_queue_behind, args=(store, inside, release))
    holder.start()
    inside.wait(5)
    outcome: list[str] = []

    def failing() -> None:
        try:
            with store.begin() as conn:
                conn.execute(text("INSERT INTO item VALUES ('second')"))
                raise ValueError("refused")
        except ValueError:
            outcome.append("raised")

    second = threading.Thread(target=failing)
    second.start()
    _wait_until_queued(store)
    release.set()
    holder.join(5)
    second.join(5)
    assert outcome == ["raised"]
    assert _names(store) == {"first"}


def test_a_caller_returns_only_after_the_shared_commit(store: Database) -> None:
    with store.begin() as conn:
        conn.execute(text("INSERT INTO item VALUES ('mine')"))
    # A fresh connection (another reader) sees the row the moment begin() has returned.
    assert "mine" in _names(store)


def test_a_failed_commit_is_reported_to_every_member(store: Database) -> None:
    inside, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def holder() -> None:
        try:
            _queue_behind(store, inside, release)
        except GroupCommitFailed as error:
            errors.append(error)

    first = threading.Thread(target=holder)
    first.start()
    inside.wait(5)

    def violating() -> None:
        try:
            with store.begin() as conn:  # a deferred foreign key fails only at COMMIT
                conn.execute(text("INSERT INTO child VALUES (42)"))
        except GroupCommitFailed as error:
            errors.append(error)

    second = threading.Thread(target=violating)
    second.start()
    _wait_until_queued(store)
    release.set()
    first.join(5)
    second.join(5)
    assert len(errors) == 2
    assert _names(store) == set()
    with store.begin() as conn:  # the store is usable afterwards
        conn.execute(text("INSERT INTO item VALUES ('after')"))
    assert _names(store) == {"after"}
