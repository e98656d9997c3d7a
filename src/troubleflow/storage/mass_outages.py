"""Mass-outage repository: the causes, their affected children (unique per cause and service instance), the
chunked outage jobs the worker claims, the customer notifications, and the inventory walk that finds every
affected customer of a service (by instance, or by service specification)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from troubleflow.domain.mass_outage import Affected, Cause
from troubleflow.errors import NotFound
from troubleflow.storage.codec import decode_json, encode_json
from troubleflow.storage.driver import insert_returning, insert_rows
from troubleflow.storage.outbox import record_failure
from troubleflow.storage.tables import (
    customer_notification,
    inventory_customer,
    inventory_product,
    inventory_service,
    mass_outage,
    mass_outage_child,
    outage_child,
    outage_job,
    trouble_ticket,
)

M, C, J, N = mass_outage.c, mass_outage_child.c, outage_job.c, customer_notification.c
ACTIVE, RESTORING, RESTORED = "active", "restoring", "restored"
PENDING, DONE, CANCELLED = "pending", "done", "cancelled"
SWEEP, RESTORE, PROPAGATE = "sweep", "restore", "propagate"


@dataclass(frozen=True, slots=True)
class Outage:
    cause: Cause
    master_id: str
    services: list[str]
    state: str
    resolution: str | None
    declared_at: datetime
    restored_at: datetime | None


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    master_id: str
    cause_id: str | None
    kind: str
    cursor: str
    payload: dict[str, Any]


# -- causes --------------------------------------------------------------------------------------------


def add_outage(conn: Connection, cause: Cause, master_id: str, services: list[str], now: datetime) -> bool:
    """Record the cause; False when it was recorded already (a concurrent or repeated declare)."""
    row = {
        "cause_id": cause.id,
        "cause_href": cause.href,
        "cause_name": cause.name,
        "cause_type": cause.referred_type,
        "master_id": master_id,
        "services": encode_json(services),
        "state": ACTIVE,
        "declared_at": now,
    }
    return insert_returning(conn, mass_outage, row, "cause_id", skip_conflicts=True) is not None


def get_outage(conn: Connection, cause_id: str, *, for_update: bool = False) -> Outage:
    found = find_outage(conn, cause_id, for_update=for_update)
    if found is None:
        raise NotFound(f"no mass outage caused by '{cause_id}'", field="causeId")
    return found


def find_outage(
    conn: Connection, cause_id: str, *, for_update: bool = False, master_id: str | None = None
) -> Outage | None:
    stmt = select(mass_outage).where(M.master_id == master_id if master_id else M.cause_id == cause_id)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    r = conn.execute(stmt).one_or_none()
    if r is None:
        return None
    cause = Cause(r.cause_id, r.cause_href, r.cause_name, r.cause_type)
    return Outage(
        cause, r.master_id, decode_json(r.services), r.state, r.resolution, r.declared_at, r.restored_at
    )


def set_services(conn: Connection, cause_id: str, services: list[str]) -> None:
    conn.execute(update(mass_outage).where(M.cause_id == cause_id).values(services=encode_json(services)))


def set_state(
    conn: Connection, cause_id: str, state: str, resolution: str | None = None, at: datetime | None = None
) -> None:
    values: dict[str, Any] = {"state": state}
    if resolution is not None:
        values |= {"resolution": resolution, "restored_at": at}
    conn.execute(update(mass_outage).where(M.cause_id == cause_id).values(**values))


# -- the inventory walk ---------------------------------------------------------------------------------


def service_kinds(conn: Connection, named: Sequence[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Each named id as a service instance (`Service`) or, failing that, a service specification
    (`ServiceSpecification`) some instance has; and the ids that are neither."""
    s = inventory_service.c
    instances = {str(i) for i in conn.execute(select(s.id).where(s.id.in_(named))).scalars()}
    rest = [n for n in named if n not in instances]
    specs = {str(i) for i in conn.execute(select(s.specification).where(s.specification.in_(rest))).scalars()}
    kinds = [
        (n, "Service" if n in instances else "ServiceSpecification") for n in named if n in instances | specs
    ]
    return kinds, [n for n in named if n not in instances | specs]


def _affected_where(kinds: Sequence[tuple[str, str]]) -> Any:
    s = inventory_service.c
    ids = [n for n, k in kinds if k == "Service"]
    specs = [n for n, k in kinds if k != "Service"]
    return or_(s.id.in_(ids), s.specification.in_(specs))


def affected_page(
    conn: Connection, kinds: Sequence[tuple[str, str]], after: str, limit: int
) -> list[Affected]:
    """The next `limit` affected service instances after `after` (id order) with their customers."""
    s, p, c = inventory_service.c, inventory_product.c, inventory_customer.c
    stmt = (
        select(s.id, s.name, c.id, c.name, c.contact)
        .join(inventory_product, p.id == s.product_id)
        .join(inventory_customer, c.id == p.customer_id)
        .where(_affected_where(kinds), s.id > after)
        .order_by(s.id)
        .limit(limit)
    )
    return [_affected(r) for r in conn.execute(stmt)]


def affected_among(
    conn: Connection, kinds: Sequence[tuple[str, str]], service_ids: set[str]
) -> dict[str, Affected]:
    """Which of `service_ids` are affected, with their customers."""
    if not service_ids:
        return {}
    s, p, c = inventory_service.c, inventory_product.c, inventory_customer.c
    stmt = (
        select(s.id, s.name, c.id, c.name, c.contact)
        .join(inventory_product, p.id == s.product_id)
        .join(inventory_customer, c.id == p.customer_id)
        .where(_affected_where(kinds), s.id.in_(sorted(service_ids)))
    )
    return {a.service_id: a for a in map(_affected, conn.execute(stmt))}


def _affected(r: Any) -> Affected:
    contact = decode_json(r[4]) if r[4] else {}
    return Affected(str(r[0]), str(r[1]), str(r[2]), str(r[3]), contact.get("email") or None)


def open_reports_after(
    conn: Connection, statuses: Sequence[str], after: str, limit: int
) -> list[tuple[str, str]]:
    """(id, document) of the next open reports after `after` in id order: a later declare walks them once."""
    t = trouble_ticket.c
    stmt = select(t.id, t.doc).where(t.status.in_(statuses), t.id > after).order_by(t.id).limit(limit)
    return [(str(r[0]), str(r[1])) for r in conn.execute(stmt)]


# -- children -------------------------------------------------------------------------------------------


def known_children(conn: Connection, cause_id: str, service_ids: Sequence[str]) -> set[str]:
    if not service_ids:
        return set()
    stmt = select(C.service_id).where(C.cause_id == cause_id, C.service_id.in_(sorted(set(service_ids))))
    return {str(i) for i in conn.execute(stmt).scalars()}


def add_children(conn: Connection, rows: list[dict[str, Any]], *, skip_conflicts: bool = False) -> None:
    insert_rows(conn, mass_outage_child, rows, skip_conflicts=skip_conflicts)


def has_children(conn: Connection, master_id: str) -> bool:
    o = outage_child.c
    return conn.execute(select(o.child_id).where(o.master_id == master_id).limit(1)).first() is not None


def linked_children(conn: Connection, master_id: str, after: str, limit: int) -> list[str]:
    """The next children of a master after `after` (id order): all of them, however they were linked."""
    o = outage_child.c
    stmt = (
        select(o.child_id)
        .where(o.master_id == master_id, o.child_id > after)
        .order_by(o.child_id)
        .limit(limit)
    )
    return [str(i) for i in conn.execute(stmt).scalars()]


def mark_children(
    conn: Connection, cause_id: str, ticket_ids: Sequence[str], state: str, now: datetime
) -> None:
    if ticket_ids:
        conn.execute(
            update(mass_outage_child)
            .where(C.cause_id == cause_id, C.ticket_id.in_(ticket_ids), C.state == "open")
            .values(state=state, cleared_at=now)
        )


def counts(conn: Connection, cause_id: str) -> dict[str, int]:
    rows = conn.execute(
        select(C.mode, C.state, func.count()).where(C.cause_id == cause_id).group_by(C.mode, C.state)
    ).all()
    out = {"opened": 0, "linked": 0, "open": 0, "cleared": 0, "left": 0}
    for mode, state, n in rows:
        out[mode] += int(n)
        out[state] += int(n)
    told = conn.execute(select(N.kind, func.count()).where(N.cause_id == cause_id).group_by(N.kind)).all()
    out |= {"notified": 0, "updated": 0, "restoreNotified": 0}
    names = {"outage": "notified", "update": "updated", "restored": "restoreNotified"}
    for kind, n in told:
        out[names[kind]] = int(n)
    return out


# -- jobs -----------------------------------------------------------------------------------------------


def add_job(
    conn: Connection, master_id: str, cause_id: str | None, kind: str, payload: dict[str, Any], now: datetime
) -> None:
    row = {
        "master_id": master_id,
        "cause_id": cause_id,
        "kind": kind,
        "state": PENDING,
        "cursor": "",
        "payload": encode_json(payload),
        "created_at": now,
    }
    insert_rows(conn, outage_job, [row])


def claim_job(conn: Connection) -> Job | None:
    """The oldest pending job, locked for this transaction (other workers skip it on PostgreSQL)."""
    stmt = select(J.id, J.master_id, J.cause_id, J.kind, J.cursor, J.payload).where(J.state == PENDING)
    stmt = stmt.order_by(J.id).limit(1)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    r = conn.execute(stmt).one_or_none()
    return None if r is None else Job(r[0], r[1], r[2], r[3], r[4], decode_json(r[5]))


def advance(conn: Connection, job: Job, cursor: str, *, done: bool, now: datetime) -> None:
    values: dict[str, Any] = {"cursor": cursor}
    if done:
        values |= {"state": DONE, "finished_at": now}
    conn.execute(update(outage_job).where(J.id == job.id, J.state == PENDING).values(**values))


def cancel_jobs(conn: Connection, master_id: str, kind: str, now: datetime) -> None:
    conn.execute(
        update(outage_job)
        .where(and_(J.master_id == master_id, J.kind == kind, J.state == PENDING))
        .values(state=CANCELLED, finished_at=now)
    )


def pending_jobs(conn: Connection, master_id: str) -> dict[str, int]:
    rows = conn.execute(
        select(J.kind, func.count()).where(J.master_id == master_id, J.state == PENDING).group_by(J.kind)
    ).all()
    return {str(k): int(n) for k, n in rows}


# -- customer notifications -------------------------------------------------------------------------------


def notify(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Record what customers are told; a (report, kind, reference) already told is skipped."""
    insert_rows(conn, customer_notification, rows, skip_conflicts=True)


def customers_of(conn: Connection, cause_id: str, ticket_ids: Sequence[str]) -> dict[str, Affected]:
    """The affected customer (and contact) of each of these children of the cause."""
    if not ticket_ids:
        return {}
    s, c = inventory_service.c, inventory_customer.c
    stmt = (
        select(C.ticket_id, C.service_id, s.name, C.customer_id, c.name, c.contact)
        .join(inventory_service, s.id == C.service_id)
        .join(inventory_customer, c.id == C.customer_id)
        .where(C.cause_id == cause_id, C.ticket_id.in_(sorted(set(ticket_ids))))
    )
    return {str(r[0]): _affected(r[1:]) for r in conn.execute(stmt)}


@dataclass(frozen=True, slots=True)
class Email:
    """A pending customer notification email, as the sender needs it."""

    id: int
    ticket_id: str
    kind: str
    address: str
    subject: str
    body: str
    attempts: int


def claim_emails(conn: Connection, now: datetime, lease: timedelta, limit: int) -> list[Email]:
    """Lease up to `limit` due pending emails (SKIP LOCKED between workers on PostgreSQL)."""
    stmt = (
        select(N.id, N.ticket_id, N.kind, N.address, N.subject, N.body, N.attempts)
        .where(
            N.state == PENDING,
            N.next_attempt_at <= now,
            (N.leased_until.is_(None)) | (N.leased_until < now),
        )
        .order_by(N.state, N.next_attempt_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    found = [Email(*r) for r in conn.execute(stmt)]
    if found:
        ids = [e.id for e in found]
        conn.execute(update(customer_notification).where(N.id.in_(ids)).values(leased_until=now + lease))
    return found


def mark_sent(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    if ids:
        conn.execute(
            update(customer_notification)
            .where(N.id.in_(ids))
            .values(state="sent", sent_at=now, leased_until=None, attempts=N.attempts + 1, last_error=None)
        )


def mark_failed(conn: Connection, email_id: int, error: str, next_attempt_at: datetime, park: bool) -> None:
    record_failure(conn, customer_notification, email_id, error, next_attempt_at, park)
