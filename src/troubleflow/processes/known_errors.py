"""Known-error database use cases: record (1.3.7.1.9 Create Customer Problem Known Record), from a
diagnosed report or by hand; change with optimistic concurrency; retire; read, list and search."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from troubleflow.clock import Clock
from troubleflow.domain import etom
from troubleflow.domain import known_error as ke
from troubleflow.domain.events import EventKind, TicketEvent
from troubleflow.domain.policy import Policy
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from troubleflow.storage import history, known_errors, outbox, tickets
from troubleflow.storage.db import Database
from troubleflow.storage.history import HistoryEntry
from troubleflow.storage.known_errors import Filters

_MAX_RETRIES = 5
_NOT_A_PROBLEM = frozenset({Status.CANCELLED, Status.REJECTED})


@dataclass(frozen=True, slots=True)
class Record:
    """A known error with the number of reports linked to it."""

    known_error: ke.KnownError
    hits: int = 0


def record_known_error(
    db: Database, values: dict[str, Any], *, clock: Clock, policy: Policy | None = None
) -> Record:
    """Record a known error given in full (symptom signature, workaround, …)."""
    with db.begin() as conn:
        new = ke.new_known_error(values, now=clock.now())
        _check_category(new.category, policy)
        return Record(replace(new, id=known_errors.add(conn, new)))


def record_from_report(
    db: Database,
    ticket_id: str,
    values: dict[str, Any],
    *,
    clock: Clock,
    actor: str,
    policy: Policy | None = None,
) -> Record:
    """Create Customer Problem Known Record (1.3.7.1.9) from a diagnosed report: the symptom is what the
    report says, the category its diagnosis; root cause and workaround come from the engineer (`values`)
    or, for a cleared report, its resolution. The report is linked to the record (its history says so)
    and the record names the report as its source."""
    with db.begin() as conn:
        now = clock.now()
        ticket = _diagnosed_report(conn, ticket_id)
        merged = {**_from_report(ticket, policy), **{k: v for k, v in values.items() if v is not None}}
        new = ke.new_known_error(merged, now=now, source_ticket_id=ticket.id)
        _check_category(new.category, policy)
        new = replace(new, id=known_errors.add(conn, new))
        assert ticket.tracking is not None
        linked = replace(
            ticket,
            version=ticket.version + 1,
            last_update=now,
            tracking=replace(ticket.tracking, known_error=ke.link_of(new, now, source=True)),
        )
        doc = tickets.save(conn, linked, previous=ticket)
        if doc is None:
            raise Conflict(f"ticket '{ticket.id}' was changed concurrently; try again")
        reason = f"known error {new.id} '{new.title}' recorded from this report"
        history.append(
            conn,
            HistoryEntry(ticket.id, now, actor, etom.CREATE_KNOWN_RECORD, "knownErrorCreated", reason=reason),
        )
        known_errors.record_hit(conn, new.id, ticket.id, now, None)
        outbox.add(
            conn, [TicketEvent(EventKind.ATTRIBUTES_CHANGED, ticket.id, fields=("known_error",))], doc, now
        )
        return Record(new, 1)


def _diagnosed_report(conn: Connection, ticket_id: str) -> TroubleTicket:
    try:
        ticket = tickets.get_for_update(conn, ticket_id)
    except NotFound:
        raise InvalidInput(
            f"no trouble ticket with id '{ticket_id}'", field="sourceTroubleTicket.id"
        ) from None
    if ticket.tracking is None:
        raise Conflict(f"trouble ticket '{ticket_id}' was never diagnosed (it has no Track & Manage state)")
    if ticket.status in _NOT_A_PROBLEM:
        raise Conflict(
            f"trouble ticket '{ticket_id}' is {ticket.status.value}: not a customer problem to learn from"
        )
    existing = known_errors.source_of(conn, ticket_id)
    if existing is not None:
        raise Conflict(f"known error {existing} was already recorded from trouble ticket '{ticket_id}'")
    return ticket


def _from_report(ticket: TroubleTicket, policy: Policy | None) -> dict[str, Any]:
    """What a report says about its problem: title, symptom, diagnosed category, resolution, root cause."""
    assert ticket.tracking is not None
    category: str | None = ticket.tracking.category
    if policy is not None and category == policy.defaults.category:
        category = None  # not categorised: the record is offered to every category
    values: dict[str, Any] = {
        "title": ticket.name or ticket.description[:120],
        "symptom": ticket.description,
        "category": category,
    }
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        resolution = next(
            (c.change_reason for c in reversed(ticket.status_change) if c.status is Status.RESOLVED), None
        )
        values["workaround"] = resolution
    root_cause = ticket.extensions.get("rootCause")
    if isinstance(root_cause, str):
        values["root_cause"] = root_cause
    return values


def _check_category(category: str | None, policy: Policy | None) -> None:
    if category is None or policy is None:
        return
    if category not in {c.id for c in policy.categories}:
        raise InvalidInput(f"unknown category '{category}' (see the policy's categories)", field="category")


def change_known_error(
    db: Database,
    ke_id: int,
    compute: Callable[[Record], dict[str, Any]],
    *,
    clock: Clock,
    if_match: int | None = None,
    policy: Policy | None = None,
) -> Record:
    """Apply a change computed from the current record as one versioned write; with `if_match` a stale
    version is refused (PreconditionFailed), without it a lost race is recomputed on the fresh record."""
    for _ in range(_MAX_RETRIES):
        with db.begin() as conn:
            current = known_errors.get(conn, ke_id, for_update=True)
            if if_match is not None and current.version != if_match:
                raise PreconditionFailed(
                    f"known error '{ke_id}' is at version {current.version}, not {if_match} (If-Match)"
                )
            hits = known_errors.hit_counts(conn, [ke_id]).get(ke_id, 0)
            values = compute(Record(current, hits))
            updated = ke.change_known_error(current, values, now=clock.now())
            if updated.category != current.category:
                _check_category(updated.category, policy)
            if updated is current:
                return Record(current, hits)
            if not known_errors.save(conn, updated, previous=current):
                if if_match is not None:
                    raise PreconditionFailed(f"known error '{ke_id}' was changed concurrently (If-Match)")
                continue
            return Record(updated, hits)
    raise Conflict(f"known error '{ke_id}' is being changed too often concurrently; try again")


def retire_known_error(db: Database, ke_id: int, *, clock: Clock, if_match: int | None = None) -> Record:
    """Retire a record: kept for the reports linked to it, never offered again."""
    return change_known_error(
        db, ke_id, lambda _k: {"status": ke.KnownErrorStatus.RETIRED.value}, clock=clock, if_match=if_match
    )


def get_known_error(db: Database, ke_id: int) -> Record:
    with db.read() as conn:
        found = known_errors.get(conn, ke_id)
        return Record(found, known_errors.hit_counts(conn, [ke_id]).get(ke_id, 0))


def linked_reports(db: Database, ke_id: int) -> list[tuple[str, datetime, float | None]]:
    """The latest reports linked to a record (ticket id, when, score; no score: its source)."""
    with db.read() as conn:
        known_errors.get(conn, ke_id)
        return known_errors.linked_tickets(conn, ke_id)


def find_known_errors(
    db: Database, filters: Filters, *, q: str | None = None, offset: int = 0, limit: int = 100
) -> tuple[list[Record], int]:
    """One page of records with the total; `q` is a full-text search (any significant word, stemmed),
    best match first. A `q` without a significant word finds nothing."""
    if q is not None:
        wanted = ke.terms(q)
        if not wanted:
            return [], 0
        filters = replace(filters, terms=wanted)
    with db.read() as conn:
        found, total = known_errors.find(conn, filters, offset, limit)
        hits = known_errors.hit_counts(conn, [k.id for k in found])
    return [Record(k, hits.get(k.id, 0)) for k in found], total
