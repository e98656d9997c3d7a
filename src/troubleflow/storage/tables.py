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
    Float,
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
    # Which API's resource `ticket_id` names and whose hubs hear the event (migration 0011).
    Column("api", String(40), nullable=False, server_default="troubleTicket"),
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
    # Whose events it hears: troubleTicket (TMF621) or serviceProblem (TMF656), migration 0011.
    Column("api", String(40), nullable=False, server_default="troubleTicket"),
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

# ---- Customer inventory and major outages (Create Customer Problem Report, 1.3.7.5.2 / 1.3.7.5.3) ----
# A small inventory of what customers bought, read at intake for the report's configuration snapshot.
# Imported from JSON/CSV (upsert by id); `contact` is a JSON text document (name, email, phone).

inventory_partner = Table(
    "inventory_partner",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("name", String(500), nullable=False),
    Column("contact", Text),
    Column("restoration_time", String(40)),  # ISO 8601 duration required by the partner agreement
    Column("endpoint", String(2000)),  # the partner's TMF621 API root (docs/partners.md); NULL: none
)

inventory_customer = Table(
    "inventory_customer",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("name", String(500), nullable=False),
    Column("segment", String(100)),
    Column("sla_class", String(100)),
    Column("region", String(100)),
    Column("contact", Text),
)

inventory_product = Table(
    "inventory_product",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("customer_id", String(100), ForeignKey("inventory_customer.id"), nullable=False, index=True),
    Column("name", String(500), nullable=False),
    Column("offering", String(200)),
    Column("status", String(40), nullable=False),
    Column("region", String(100)),
    Column("partner_id", String(100), ForeignKey("inventory_partner.id")),
    Column("sla_class", String(100)),
)

inventory_service = Table(
    "inventory_service",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("product_id", String(100), ForeignKey("inventory_product.id"), nullable=False, index=True),
    Column("name", String(500), nullable=False),
    Column("category", String(100)),
    Column("specification", String(200)),
    Column("status", String(40), nullable=False),
)

# What an open major-outage (master) report covers: a service, a product or a service specification.
# A new report's snapshot is matched through the (kind, entity_id) index, never by scanning open reports;
# the master's status is checked on the matched rows only (a closed master attracts nothing).
outage_scope = Table(
    "outage_scope",
    metadata,
    Column("master_id", String(40), primary_key=True),
    Column("kind", String(40), primary_key=True),  # service | product | serviceSpecification
    Column("entity_id", String(200), primary_key=True),
    Index(None, "kind", "entity_id", "master_id"),
)

# The children linked to a master (Check Customer Problem Outage, 1.3.7.5.3), for whoever acts on them all.
outage_child = Table(
    "outage_child",
    metadata,
    Column("master_id", String(40), primary_key=True),
    Column("child_id", String(40), primary_key=True),
    Column("linked_at", UtcDateTime, nullable=False),
)
# ---- end of customer inventory and major outages ----

# --- Known errors (Check Known Error, 1.3.7.1.6; Create Customer Problem Known Record, 1.3.7.1.9) -------
# The full-text index lives outside this metadata, created by migration 0006 (docs/known-errors.md):
# on SQLite the FTS5 table `known_error_fts` (external content, kept in step by triggers), on PostgreSQL
# the GIN expression index `ix_known_error_search`. `include_name` keeps schema comparison off them.
# The integer id is the FTS5 rowid (an INTEGER PRIMARY KEY survives VACUUM; an implicit rowid may not).
known_error = Table(
    "known_error",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("version", Integer, nullable=False),
    Column("title", String(500), nullable=False),
    Column("symptom", Text, nullable=False),
    Column("category", String(100)),
    Column("product", String(200)),
    Column("root_cause", Text),
    Column("workaround", Text, nullable=False),
    Column("permanent_fix_status", String(20), nullable=False),  # open | inProgress | fixed | wontFix
    Column("status", String(20), nullable=False),  # active | retired
    Column("change_request", String(200)),
    Column("source_ticket_id", String(40), index=True),
    Column("created", UtcDateTime, nullable=False),
    Column("updated", UtcDateTime, nullable=False),
    Index(None, "status", "category", "id"),
)

# Append-only: one row per report linked to a known error (offered at intake, or its source), so the
# hit count is a count and no create contends on a counter row during a mass fault.
known_error_hit = Table(
    "known_error_hit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("known_error_id", BigId, nullable=False, index=True),
    Column("ticket_id", String(40), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("score", Float),  # None: the report the record was created from
)

SEARCH_OBJECTS = frozenset({"known_error_fts", "ix_known_error_search"})


def include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """Schema comparison (Alembic autogenerate) skips the full-text objects and FTS5's shadow tables."""
    return not (name and (name in SEARCH_OBJECTS or name.startswith("known_error_fts_")))


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

# Open tasks per workgroup as signed deltas (storage/workload.py), like `ticket_tally`.
workgroup_load = Table(
    "workgroup_load",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("workgroup", String(100), nullable=False, index=True),
    Column("n", Integer, nullable=False),
)
# --- end work plan ----------------------------------------------------------------------------------------

# --- Escalations and their notifications (Escalate Customer Problem 1.3.7.3.3; docs/escalation.md) -------
# One row per escalation step taken. The level only rises, so (ticket, level) names a step: the unique
# index makes a step recorded twice (a timer fired twice, a forecast breach then the real one) a no-op.
# (level, ticket_id) serves the NOC view "open reports escalated at or above a level".
escalation = Table(
    "escalation",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", String(40), nullable=False),
    Column("level", Integer, nullable=False),
    Column("cause", String(20), nullable=False),  # threshold | forecast | manual
    Column("threshold", Integer),  # the jeopardy threshold of the matrix cell (100 for a forecast breach)
    Column("role", String(100)),
    Column("workgroup", String(100)),
    Column("list_id", String(100)),  # the notification list told
    Column("actor", String(200), nullable=False),
    Column("reason", Text),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "ticket_id", "level", unique=True),
    Index(None, "level", "ticket_id"),
)

# One row per recipient of a step's list, written in the step's transaction and sent by the worker
# (retried with backoff, then parked; replayable), like a hub delivery. Subject and body are rendered once;
# `payload` holds the facts the webhook body is rendered from. The unique key is (ticket, step, recipient).
notification = Table(
    "notification",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("escalation_id", BigId, ForeignKey("escalation.id", ondelete="CASCADE"), nullable=False),
    Column("ticket_id", String(40), nullable=False),
    Column("level", Integer, nullable=False),
    Column("list_id", String(100), nullable=False),
    Column("channel", String(12), nullable=False),  # email | webhook
    Column("address", String(500), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("body", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(12), nullable=False),  # pending | sent | parked
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("leased_until", UtcDateTime),
    Column("last_error", Text),
    Column("sent_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "ticket_id", "level", "channel", "address", unique=True),
    Index(None, "state", "next_attempt_at"),
    Index(None, "escalation_id"),
)
# --- end escalations ---------------------------------------------------------------------------------------

# --- Service problems (TMF656; Create Service Trouble Report 1.4.6.1; docs/service-problems.md) ------------
# The problem's full representation in `doc` (like a ticket); mirror columns for the list filters. Its events
# go to the outbox with api = 'serviceProblem' (they are also its serviceProblemEventRecord).
service_problem = Table(
    "service_problem",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("category", String(200), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("creation_date", UtcDateTime, nullable=False),
    Column("last_update", UtcDateTime, nullable=False),
    Column("doc", Text, nullable=False),
    Index(None, "status", "creation_date", "id"),
)

# Which customer problem reports a service problem explains: both directions by index, so a report's
# problems are found without reading every problem. No foreign keys: a link outlives neither side's
# deletion on purpose (the use cases remove it).
service_problem_ticket = Table(
    "service_problem_ticket",
    metadata,
    Column("problem_id", String(40), primary_key=True),
    Column("ticket_id", String(40), primary_key=True),
    Index(None, "ticket_id", "problem_id"),
)

# TMF656 task resources (problemGroup, problemUngroup) as they were posted, with their outcome.
service_problem_task = Table(
    "service_problem_task",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(40), nullable=False),  # problemGroup | problemUngroup
    Column("created_at", UtcDateTime, nullable=False),
    Column("doc", Text, nullable=False),
    Index(None, "kind", "created_at", "id"),
)
# --- end service problems ---------------------------------------------------------------------------------
# --- restoration (Correct & Recover Customer Problem, 1.3.7.6; docs/restoration.md) -------------------------
# A report's restoration trail, append-only: actions with their outcome, feasibility decisions, solution
# validations, major-problem reviews (numbered per report, like tasks).
restoration_record = Table(
    "restoration_record",
    metadata,
    Column("ticket_id", String(40), ForeignKey("trouble_ticket.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("kind", String(24), nullable=False),  # restorationAction | feasibility | solutionValidation | …
    Column("outcome", String(24), nullable=False),
    Column("description", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("details", Text, nullable=False),  # JSON object: the kind's other facts
)

# What a restoration opens and what outlives the report: change requests (1.3.7.6.6), product order
# requests (withdraw/upgrade/renew) and requests to other CRM processes. No foreign key: they stay tracked
# after the report closes (and after an administrative delete).
restoration_item = Table(
    "restoration_item",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(24), nullable=False),  # changeRequest | productOrderRequest | processRequest
    Column("ticket_id", String(40), nullable=False),
    Column("state", String(12), nullable=False),  # open | inProgress | completed | failed | cancelled
    Column("description", Text, nullable=False),
    Column("target_process", String(20)),
    Column("action", String(12)),
    Column("product_id", String(100)),
    Column("known_error_id", BigId),
    Column("reason", Text),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "ticket_id", "kind"),
    Index(None, "kind", "state"),
)
# --- end restoration ---------------------------------------------------------------------------------------
# --- Mass outages (proactive Check Customer Problem Outage, 1.3.7.5.3; docs/mass-outage.md) ---------------
# One row per network-side cause (a TMF656 ServiceProblem): its master report, the services it names and
# where its restoration stands.
mass_outage = Table(
    "mass_outage",
    metadata,
    Column("cause_id", String(200), primary_key=True),
    Column("cause_href", String(2000)),
    Column("cause_name", String(500)),
    Column("cause_type", String(100), nullable=False),
    Column("master_id", String(40), nullable=False, index=True),
    Column("services", Text, nullable=False),  # JSON array of the named service (or specification) ids
    Column("state", String(12), nullable=False),  # active | restoring | restored
    Column("resolution", Text),
    Column("declared_at", UtcDateTime, nullable=False),
    Column("restored_at", UtcDateTime),
)

# One row per affected service instance (so per customer and service: an instance has one customer). The
# primary key is what makes two workers, or a sweep resumed after a crash, never open a second report.
mass_outage_child = Table(
    "mass_outage_child",
    metadata,
    Column("cause_id", String(200), primary_key=True),
    Column("service_id", String(100), primary_key=True),
    Column("customer_id", String(100)),
    Column("ticket_id", String(40), nullable=False, index=True),
    Column("mode", String(12), nullable=False),  # opened | linked
    Column("state", String(12), nullable=False),  # open | cleared | left (closed or cancelled by others)
    Column("linked_at", UtcDateTime, nullable=False),
    Column("cleared_at", UtcDateTime),
    Index(None, "cause_id", "state"),
)

# Durable chunked work on a master's children, done by the worker one chunk (one transaction) at a time:
# `sweep` (link open reports, then open the missing ones), `restore`, `propagate` (ETA and notes).
outage_job = Table(
    "outage_job",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("master_id", String(40), nullable=False),
    Column("cause_id", String(200)),
    Column("kind", String(12), nullable=False),
    Column("state", String(12), nullable=False),  # pending | done | cancelled
    Column("cursor", String(300), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Index(None, "state", "id"),
)

# What a customer was told (Notify Customer Problem, 1.3.7.2.4), one row per (report, kind, reference):
# `channel` and `address` come from the inventory contact (`none`: no contact, the record and the report's
# note and event are the notification, state `recorded`). Emails are sent by the worker like escalation
# notifications: pending, then sent, or retried with backoff and parked.
customer_notification = Table(
    "customer_notification",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", String(40), nullable=False),
    Column("kind", String(12), nullable=False),  # outage | update | restored
    Column("ref", String(200), nullable=False),  # the cause, or the update job
    Column("cause_id", String(200)),
    Column("customer_id", String(100)),
    Column("channel", String(12), nullable=False),  # email | none
    Column("address", String(500)),
    Column("subject", String(500), nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(12), nullable=False),  # pending | sent | parked | recorded
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("leased_until", UtcDateTime),
    Column("last_error", Text),
    Column("sent_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "ticket_id", "kind", "ref", unique=True),
    Index(None, "cause_id", "kind"),
    Index(None, "state", "next_attempt_at"),
)
Index("ix_inventory_service_specification_id", inventory_service.c.specification, inventory_service.c.id)
# --- end mass outages ---------------------------------------------------------------------------------------

# --- Partner problems and B2B hand-offs (S/P Problem Reporting & Management 1.6.10; docs/partners.md) ----
# One row per outbound HTTP request to a peer, written in the transaction of the decision that needs it and
# sent by the worker (retried with backoff, parked, replayable), like a hub delivery. `target` names the
# kind of peer resource (partnerTroubleTicket, …); (ticket_id, record_id) correlate it with our records.
handoff = Table(
    "handoff",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("target", String(40), nullable=False),
    Column("action", String(20), nullable=False),  # create | subscribe | retrieve | cancel | …
    Column("method", String(10), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("body", Text),  # JSON request body; NULL for GET/DELETE
    Column("ticket_id", String(40)),
    Column("record_id", String(40)),
    Column("state", String(12), nullable=False),  # pending | sent | parked
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("leased_until", UtcDateTime),
    Column("last_error", Text),
    Column("response_status", Integer),
    Column("sent_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "state", "next_attempt_at"),
    Index(None, "ticket_id"),
)

# One row per problem submitted to a partner for a report (Submit Business Partner Problem 1.6.10.3):
# the partner's own ticket id and status as last heard, its commitment, and the hub subscription.
partner_ticket = Table(
    "partner_ticket",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("ticket_id", String(40), nullable=False),
    Column("partner_id", String(100), nullable=False),
    Column("endpoint", String(2000), nullable=False),
    Column("partner_ticket_id", String(200)),  # NULL until the partner answered 201
    Column("partner_href", String(2000)),
    Column("partner_status", String(20)),  # the partner's TMF621 status as last heard
    Column("hub_id", String(200)),
    Column("commitment", UtcDateTime),
    Column("expected_resolution", UtcDateTime),  # the partner's expectedResolutionDate
    Column("last_heard_at", UtcDateTime),
    Column("silence_escalated_at", UtcDateTime),
    Column("cancel_reason", Text),  # set when our report's cancellation cascaded to it
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "ticket_id", "partner_id", unique=True),
    Index(None, "partner_id", "partner_ticket_id"),
)
# --- end partner problems ----------------------------------------------------------------------------------
# --- external service problem managers (docs/service-problems.md) ------------------------------------------
external_service_problem = Table(
    "external_service_problem",
    metadata,
    Column("problem_id", String(40), primary_key=True),  # our local service problem: the mirror
    Column("domain_id", String(100), nullable=False),  # policy delegation.service_domains[].id
    Column("endpoint", String(2000), nullable=False),
    Column("ticket_id", String(40)),  # the report that raised it
    Column("remote_id", String(200)),  # NULL until the manager answered 201
    Column("remote_href", String(2000)),
    Column("remote_status", String(20)),
    Column("hub_id", String(200)),
    Column("cancel_reason", Text),
    Column("last_heard_at", UtcDateTime),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "domain_id", "remote_id"),
)
# --- end external service problem managers -----------------------------------------------------------------
