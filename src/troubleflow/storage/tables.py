"""The schema on one screen. Tickets keep their full representation in `doc`; indexed columns mirror the
first-level attributes that are filtered, sorted or timed (so list queries never scan the table)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; stored naive-UTC on SQLite so text order is time order."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(DateTime(timezone=False))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrement needs INTEGER

SORTABLE_COLUMNS = (
    "creation_date",
    "last_update",
    "severity",
    "priority",
    "ticket_type",
    "external_id",
    "status_change_date",
    "expected_resolution_date",
    "requested_resolution_date",
    "resolution_date",
    "channel_id",
    "name",
)

trouble_ticket = Table(
    "trouble_ticket",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("type_name", String(100), nullable=False),
    Column("name", String(500)),
    Column("status", String(20), nullable=False),
    Column("severity", String(100), nullable=False),
    Column("priority", String(100)),
    Column("ticket_type", String(100), nullable=False),
    Column("external_id", String(200)),
    Column("channel_id", String(200)),
    Column("creation_date", UtcDateTime, nullable=False),
    Column("last_update", UtcDateTime, nullable=False),
    Column("status_change_date", UtcDateTime),
    Column("requested_resolution_date", UtcDateTime),
    Column("expected_resolution_date", UtcDateTime),
    Column("resolution_date", UtcDateTime),
    Column("doc", Text, nullable=False),
    # Every index ends in `id`, the tiebreaker of every ORDER BY, so a sorted page is read straight
    # from an index and never sorted in a temporary B-tree together with the documents.
    Index(None, "status", "severity", "creation_date", "id"),
    Index(None, "status", "creation_date", "id"),
    *(Index(None, column, "id") for column in SORTABLE_COLUMNS),
)

# How many tickets hold each (status, severity, priority, ticket_type), as signed deltas written in each
# change's own transaction and folded by the worker. Appending never contends on a hot counter row (as an
# UPDATE n = n + 1 would on PostgreSQL), and a filter on these columns is counted by summing a few hundred
# rows instead of walking every matching index entry (25k of them for status+severity at 1M tickets).
ticket_tally = Table(
    "ticket_tally",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("status", String(20), nullable=False),
    Column("severity", String(100), nullable=False),
    Column("priority", String(100)),
    Column("ticket_type", String(100), nullable=False),
    Column("n", Integer, nullable=False),
)

# Append-only audit trail: who did what, through which eTOM process, and why. No foreign key: the
# trail outlives a deleted ticket.
ticket_history = Table(
    "ticket_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", String(40), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("process_id", String(20), nullable=False),
    Column("action", String(40), nullable=False),
    Column("old_status", String(20)),
    Column("new_status", String(20)),
    Column("reason", Text),
    Column("fields", Text),
)

# Transactional outbox: one row per domain event, written in the change's own transaction. `payload`
# is the ticket document as it was right after the change.
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(40), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("ticket_id", String(40), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("fields", Text),
    Column("reason", Text),
    Column("payload", Text, nullable=False),
    Column("dispatched", Integer, nullable=False, default=0),
    Index(None, "dispatched", "id"),
)

hub_subscription = Table(
    "hub_subscription",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("api_version", String(4), nullable=False),
    Column("callback", String(2000), nullable=False),
    Column("query", Text),
    Column("secret", String(200)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("doc", Text, nullable=False),
)

# One row per (event, subscription): the unit of retry, backoff, parking and replay.
delivery = Table(
    "delivery",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("outbox_id", BigId, ForeignKey("outbox.id", ondelete="CASCADE"), nullable=False),
    Column(
        "subscription_id", String(40), ForeignKey("hub_subscription.id", ondelete="CASCADE"), nullable=False
    ),
    Column("ticket_id", String(40), nullable=False),
    Column("state", String(12), nullable=False),  # pending | delivered | parked
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("leased_until", UtcDateTime),
    Column("last_error", Text),
    Column("delivered_at", UtcDateTime),
    Index(None, "state", "next_attempt_at"),
    Index(None, "subscription_id", "ticket_id", "state", "id"),
    Index(None, "outbox_id"),
)

# Durable timers: a row per armed deadline, fired by the worker in the same transaction as its effect
# (so exactly once), cancelled when the report is cleared or cancelled. The partial index holds only
# armed timers, so finding the due ones among millions stays a short index range scan.
timer = Table(
    "timer",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", String(40), nullable=False, index=True),
    Column("kind", String(40), nullable=False),  # jeopardy
    Column("process_id", String(20), nullable=False),  # the eTOM process that acts when it fires
    Column("due_at", UtcDateTime, nullable=False),
    Column("state", String(12), nullable=False),  # armed | fired | cancelled
    Column("payload", Text, nullable=False),  # JSON: what the firing needs (e.g. the threshold)
    Column("armed_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
    Index(
        "ix_timer_armed_due",
        "due_at",
        "id",
        sqlite_where=text("state = 'armed'"),
        postgresql_where=text("state = 'armed'"),
    ),
)

idempotency_key = Table(
    "idempotency_key",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("ticket_id", String(40), nullable=False),
    Column("doc", Text, nullable=False),  # the ticket as first created: a retry returns exactly this
    Column("created_at", UtcDateTime, nullable=False, index=True),
)

# --- Work plan (Coordinate Customer Problem, 1.3.7.3.1; docs/work-plan.md) -------------------------------
# One row per task of a report's plan, numbered within the report (`seq`); the report's own row is the
# lock every task change takes first. (workgroup, state) counts the open tasks per workgroup (load).
task = Table(
    "task",
    metadata,
    Column("ticket_id", String(40), ForeignKey("trouble_ticket.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("template", String(100)),  # the policy task template; NULL for an ad-hoc task
    Column("skill", String(100)),
    Column("workgroup", String(100)),
    Column("assignee", String(200)),
    Column("state", String(12), nullable=False),  # waiting | ready | inProgress | done | cancelled
    Column("mandatory", Integer, nullable=False),
    Column("depends_on", Text, nullable=False),  # JSON array of task numbers of the same report
    Column("duration_s", Integer, nullable=False),  # expected effort, seconds of working time
    Column("due_at", UtcDateTime),
    Column("eta", UtcDateTime),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    Column("reason", Text),
    Column("notes", Text, nullable=False),  # JSON array of {text, author, date}
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "workgroup", "state"),
)
# --- end work plan ----------------------------------------------------------------------------------------
