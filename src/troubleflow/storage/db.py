"""Engine and transactions: `Database.begin()` for a write transaction, `Database.read()` for a snapshot.

SQLite needs care to behave like a real transactional store (SQLAlchemy SQLite dialect docs,
"Serializable isolation / Savepoints / Transactional DDL"): we disable pysqlite's own transaction
handling and emit BEGIN ourselves: `BEGIN IMMEDIATE` for writes, so two writers never deadlock on a
lock upgrade, and a deferred BEGIN for reads, so a count and its page see the same snapshot.

SQLite has one writer at a time, so its write transactions go through `GroupCommit` (see there): one
transaction per process at a time, shared by the writers that queue up while it is open.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import StaticPool

from troubleflow.storage.group_commit import FileLock, GroupCommit

_READ_OPTION = "troubleflow_read"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)


def _sqlite_engine(url: str) -> Engine:
    memory = url in {"sqlite://", "sqlite:///:memory:"}
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if memory:
        kwargs["poolclass"] = StaticPool
    else:
        # Connections are reused rather than reopened (each open re-runs the PRAGMAs below). Few are
        # needed at once: writers share the group-commit transaction's connection, and reads run one at a
        # time on the event loop. Each holds its own page cache, so more of them cost memory (RSS).
        kwargs.update(pool_size=5, max_overflow=10)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see module docstring)
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-4096")  # 4 MB per connection; the OS page cache holds the file
        cur.close()
        dbapi_conn.create_function("regexp", 2, _regexp, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read = conn.get_execution_options().get(_READ_OPTION, False)
        conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

    return engine


def _regexp(pattern: str | None, value: object) -> int:
    """SQLite has no REGEXP of its own; TMF630 `.regex` filters use Python's `re` (search semantics)."""
    if pattern is None or value is None:
        return 0
    return 1 if re.search(pattern, str(value)) else 0


def _group_commit(engine: Engine) -> GroupCommit | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return GroupCommit(engine, FileLock(database + "-writer.lock"))


class Database:
    """The store: hands out write and read transactions on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._group = _group_commit(engine)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back on any exception."""
        if self._group is not None:
            with self._group.begin() as conn:
                yield conn
        else:
            with self.engine.begin() as conn:
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot (rolled back at the end; nothing is written through it)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{_READ_OPTION: True})
            with conn.begin():
                yield conn

    def lookup(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The first row of one read statement, run straight on the driver without a transaction (a
        single statement is its own snapshot). GET by id's path: SQLAlchemy's statement, result and
        transaction handling cost about eight times the query itself (bench/README.md). `sql` uses
        `?` placeholders and must hold no other question mark."""
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        conn = self.engine.raw_connection()
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            finally:
                cursor.close()
        finally:
            conn.close()  # back to the pool, which rolls back what the driver may have begun
        return None if row is None else tuple(row)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._group is not None:
            self._group.close()
