"""Customer problem report use cases: create (1.3.7.5), change and move through the lifecycle
(1.3.7.3.x, 1.3.7.4), delete, read. History and outbox rows are written in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from troubleflow.clock import Clock
from troubleflow.domain import close, etom
from troubleflow.domain.closure import Answer
from troubleflow.domain.events import EventKind, TicketEvent
from troubleflow.domain.ids import new_id
from troubleflow.domain.jeopardy import WATCHED_STATUSES
from troubleflow.domain.policy import Policy
from troubleflow.domain.query import Query
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import TroubleTicket, change_ticket, open_ticket
from troubleflow.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from troubleflow.processes import (
    closure,
    delegation,
    intake,
    outage_follow,
    partner_tickets,
    restoration,
    track_start,
    work_plan,
)
from troubleflow.processes import tracking as track
from troubleflow.storage import history, idempotency, outbox, tasks, tickets, timers
from troubleflow.storage.codec import decode_ticket, encode_ticket
from troubleflow.storage.db import Database
from troubleflow.storage.history import HistoryEntry

log = logging.getLogger(__name__)

_MAX_RETRIES = 5


@dataclass(frozen=True, slots=True)
class Created:
    ticket: TroubleTicket
    replayed: bool  # True when an Idempotency-Key retry returned the first result


def create_report(
    db: Database,
    values: dict[str, Any],
    *,
    clock: Clock,
    actor: str,
    idempotency_key: str | None = None,
    fingerprint: str = "",
    policy: Policy | None = None,
) -> Created:
    """Generate Customer Problem Report (1.3.7.5.1): validate, assign the id, start the lifecycle and,
    with a policy, Track & Manage Customer Problem (diagnosis, priority, commitment, jeopardy timers)."""
    try:
        with db.begin() as conn:
            if idempotency_key is not None:
                seen = idempotency.lookup(conn, idempotency_key)
                if seen is not None:
                    return _replay(seen, fingerprint, idempotency_key)
            now = clock.now()
            ticket, event = open_ticket(values, ticket_id=new_id(), now=now)
            history.append(
                conn,
                HistoryEntry(
                    ticket.id, now, actor, etom.CREATE_REPORT, "created", new_status=ticket.status.value
                ),
            )
            events = [event]
            ticket = intake.obtain_configuration(conn, ticket, policy, actor, now)
            if policy is not None and not track_start.in_worker(policy):
                ticket, events = track_start.begin(conn, ticket, events, policy, actor, now)
            ticket = intake.check_outage(conn, ticket, actor, now)
            ticket = delegation.begin(conn, ticket, policy, actor, now)  # a service-layer fault: 1.4.6.1
            doc = tickets.add(conn, ticket)
            if policy is not None:
                track_start.written(conn, ticket, policy, actor, now)  # plan its work, or queue the start
            if idempotency_key is not None:
                idempotency.remember(conn, idempotency_key, fingerprint, ticket.id, doc, now)
            outbox.add(conn, events, doc, now)
    except IntegrityError:
        if idempotency_key is None:
            raise
        # A concurrent request with the same key won the race; answer with its result.
        with db.read() as conn:
            seen = idempotency.lookup(conn, idempotency_key)
        if seen is None:
            raise
        return _replay(seen, fingerprint, idempotency_key)
    return Created(ticket, replayed=False)


def _replay(seen: tuple[str, str], fingerprint: str, key: str) -> Created:
    stored_fingerprint, doc = seen
    if stored_fingerprint != fingerprint:
        raise Conflict(f"Idempotency-Key '{key}' was already used with a different request body")
    return Created(decode_ticket(doc), replayed=True)


def change_report(
    db: Database,
    ticket_id: str,
    compute: Callable[[TroubleTicket], dict[str, Any]],
    *,
    clock: Clock,
    actor: str,
    if_match: int | None = None,
    policy: Policy | None = None,
    answer: Answer | None = None,
) -> TroubleTicket:
    """Apply a client change (computed from the current state) as one versioned write.

    With `if_match` a stale version is refused (PreconditionFailed). Without it, a write that lost a
    race is recomputed on the fresh state, so no concurrent change is silently overwritten. `answer` is
    the customer's, when the change is their answer to Contact Customer (1.3.7.4.1).
    """
    for _ in range(_MAX_RETRIES):
        with db.begin() as conn:
            current = tickets.get_for_update(conn, ticket_id)
            if if_match is not None and current.version != if_match:
                raise PreconditionFailed(
                    f"ticket '{ticket_id}' is at version {current.version}, not {if_match} (If-Match)"
                )
            now = clock.now()
            changes = compute(current)
            updated = apply_change(conn, current, changes, actor=actor, now=now, policy=policy, answer=answer)
            if updated is None:
                if if_match is not None:
                    raise PreconditionFailed(f"ticket '{ticket_id}' was changed concurrently (If-Match)")
                continue  # lost the race: leave this transaction and recompute on the new state
            return updated
    raise Conflict(f"ticket '{ticket_id}' is being changed too often concurrently; try again")


def apply_change(
    conn: Connection,
    current: TroubleTicket,
    changes: dict[str, Any],
    *,
    actor: str,
    now: datetime,
    policy: Policy | None,
    answer: Answer | None = None,
) -> TroubleTicket | None:
    """The report change rules inside the caller's transaction, the report's row read with
    `tickets.get_for_update`: the new report (`current` when nothing changed), or None when a concurrent
    writer saved another version first (the caller recomputes or gives up)."""
    _check_cancel_reason(current, changes)
    work_plan.check_clearable(conn, current, changes)
    restoration.check_change(conn, current, changes, policy)  # 1.3.7.6.5, orders, 1.3.7.6.7
    updated, events = change_ticket(current, changes, now=now)
    if not events:
        return current
    updated = close.follow(current, updated, closure.rules_for(policy, current), answer, now)
    updated, clock_moved = track.follow(current, updated, policy, now)
    doc = tickets.save(conn, updated, previous=current)
    if doc is None:
        return None
    history.append_many(conn, history.of_change(updated.id, events, actor, now))
    if clock_moved and policy is not None:
        track.clock_moved(conn, updated, policy, actor, now)
    outbox.add(conn, events, doc, now)
    outage_follow.master_changed(conn, current, updated, now)  # ETA and notes reach the children
    work_plan.followed(conn, current, updated, policy, actor, now)
    if current.status in WATCHED_STATUSES and updated.status not in WATCHED_STATUSES:
        track.stop_timers(conn, updated.id, updated.status, actor, now)
        track.ended(conn, updated, actor, now)
    if updated.status is Status.CANCELLED and current.status is not Status.CANCELLED:
        delegation.report_cancelled(conn, updated, policy, actor, now)  # its service problems (1.3.7.3.2)
    closure.followed(conn, current, updated, policy, answer, actor, now)  # after End: auto-close
    partner_tickets.report_changed(conn, current, updated, policy, actor, now)  # cancel cascade (1.6.10)
    return updated


def _check_cancel_reason(current: TroubleTicket, changes: dict[str, Any]) -> None:
    """Cancel Customer Problem (1.3.7.3.2) needs a reason code: cancelled reports are excluded from the
    restoration metrics, and the reason says why (duplicate, false report, customer withdrew…)."""
    if current.tracking is None or changes.get("status") is not Status.CANCELLED:
        return
    if current.status is Status.CANCELLED:
        return
    reason = changes.get("status_change_reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(
            "cancelling a customer problem report needs a reason code in 'statusChangeReason'",
            field="statusChangeReason",
        )


def move_report(
    db: Database,
    ticket_id: str,
    status: Status,
    reason: str | None,
    *,
    clock: Clock,
    actor: str,
    if_match: int | None = None,
    policy: Policy | None = None,
) -> TroubleTicket:
    """Move a report through the lifecycle (the CLI's `ticket move`; PATCH of status does the same)."""
    return change_report(
        db,
        ticket_id,
        lambda _t: {"status": status, "status_change_reason": reason},
        clock=clock,
        actor=actor,
        if_match=if_match,
        policy=policy,
    )


def delete_report(
    db: Database, ticket_id: str, *, clock: Clock, actor: str, if_match: int | None = None
) -> None:
    """Administrative removal (maintaining the support inventory, 1.3.1); the audit trail stays."""
    with db.begin() as conn:
        current = tickets.get_for_update(conn, ticket_id)
        if if_match is not None and current.version != if_match:
            raise PreconditionFailed(f"ticket '{ticket_id}' is at version {current.version}, not {if_match}")
        now = clock.now()
        tasks.forget(conn, ticket_id)
        tickets.remove(conn, ticket_id)
        timers.cancel_for_ticket(conn, ticket_id, now)
        history.append(
            conn,
            HistoryEntry(
                ticket_id, now, actor, etom.SUPPORT_READINESS, "deleted", old_status=current.status.value
            ),
        )
        outbox.add(conn, [TicketEvent(EventKind.DELETED, ticket_id)], encode_ticket(current), now)


def get_report(db: Database, ticket_id: str) -> TroubleTicket:
    with db.read() as conn:
        return tickets.get(conn, ticket_id)


@dataclass(slots=True)
class Found:
    """A report on a result page. Its document is decoded only when asked for: a reader that already
    holds this version (a render cache) skips the decoding."""

    id: str
    version: int
    doc: str
    key: tuple[Any, ...] = ()  # its sort-key values: what a cursor to this row holds
    _ticket: TroubleTicket | None = None

    @property
    def ticket(self) -> TroubleTicket:
        if self._ticket is None:
            self._ticket = decode_ticket(self.doc)
        return self._ticket


def find_report(db: Database, ticket_id: str) -> Found:
    """One report as stored, its document decoded only if the reader needs it (GET by id)."""
    version, doc = tickets.lookup(db, ticket_id)
    return Found(ticket_id, version, doc)


def find_reports(db: Database, query: Query) -> tuple[list[Found], int]:
    with db.read() as conn:
        docs, total = tickets.find(conn, query)
    return [Found(*d) for d in docs], total


def report_history(db: Database, ticket_id: str) -> list[HistoryEntry]:
    """The audit trail of a report (kept after deletion); NotFound if it never existed."""
    with db.read() as conn:
        entries = history.for_ticket(conn, ticket_id)
    if not entries:
        raise NotFound(f"no trouble ticket with id '{ticket_id}'", field="id")
    return entries
