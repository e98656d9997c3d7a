"""The start of Track & Manage Customer Problem (1.3.7.3) for a new report: Perform Initial Diagnosis and
Prioritize (1.3.7.3.2, .5), the restoration commitment and its jeopardy timer (1.3.7.3.4), Check Known Error,
a resolution at first contact, and, once the report row is written, Coordinate Customer Problem's work plan
(1.3.7.3.1) and a partner-owned product's submission (1.6.10).

The policy's `intake.start_tracking` says when (docs/policy.md):
- `at_creation`: inside the creation transaction; the 201 carries priority, commitment and tasks.
- `in_worker`: the creation transaction writes the acknowledged report (Generate Customer Problem Report,
  1.3.7.5.1) and a durable `trackStart` timer due at once; the worker's next timer pass starts tracking in
  batches and tells subscribers by an AttributeValueChangeEvent. A storm's mode: a create writes 7 rows
  instead of 18 (default policy), for about half the CPU. The SLA clock still runs from the report's creation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from troubleflow.domain import close, etom, tracking
from troubleflow.domain import policy as p
from troubleflow.domain.events import EventKind, TicketEvent
from troubleflow.domain.jeopardy import WATCHED_STATUSES
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import TroubleTicket, change_ticket
from troubleflow.processes import closure, delegation, known_error_check, partner_tickets, work_plan
from troubleflow.processes import tracking as track
from troubleflow.storage import history, timers
from troubleflow.storage.history import HistoryEntry
from troubleflow.storage.timers import ArmRequest

START = "trackStart"  # the timer kind of a start left to the worker
# What a start may change, as event field names: the tracking state's wire attributes among them.
_TRACKING_FIELDS = (
    "sla_class",
    "impact",
    "urgency",
    "category",
    "restoration_commitment",
    "sla_clock",
    "diagnosis",
)
_REPORT_FIELDS = ("priority", "expected_resolution_date", "note", "related_entity", "extensions")


def in_worker(policy: p.Policy) -> bool:
    return policy.intake.start_tracking == p.IN_WORKER


def begin(
    conn: Connection,
    ticket: TroubleTicket,
    events: list[TicketEvent],
    policy: p.Policy,
    actor: str,
    now: datetime,
) -> tuple[TroubleTicket, list[TicketEvent]]:
    """Before the report row is written (or rewritten): diagnose, prioritize, commit, check known errors,
    and resolve at first contact where the diagnosis says so. Returns the report and its events."""
    requested = tracking.requested_of(ticket.extensions, policy)
    created = ticket.creation_date
    since = created if created is not None and created < now else None
    ticket = track.begin(conn, ticket, policy, requested, now, since=since)
    ticket = known_error_check.check(conn, ticket, policy, now)
    return _first_contact_resolution(conn, ticket, events, policy, actor, now)


def plan(conn: Connection, ticket: TroubleTicket, policy: p.Policy, actor: str, now: datetime) -> None:
    """After the report row is written: plan and assign its work, submit it to a partner."""
    work_plan.begin(conn, ticket, policy, now)  # Coordinate Customer Problem (1.3.7.3.1)
    partner_tickets.delegate_at_intake(conn, ticket, policy, actor, now)  # docs/partners.md


def written(conn: Connection, ticket: TroubleTicket, policy: p.Policy, actor: str, now: datetime) -> None:
    """After the new report's row is written: plan its work, or (`in_worker`) leave the start to the
    worker: a durable timer due now, and the trail says so."""
    if not in_worker(policy):
        plan(conn, ticket, policy, actor, now)
        return
    timers.arm_many(conn, [ArmRequest(ticket.id, START, etom.TRACK_AND_MANAGE, now, {})], now)
    why = "policy intake.start_tracking: in_worker"
    history.append(
        conn, HistoryEntry(ticket.id, now, actor, etom.TRACK_AND_MANAGE, "trackingQueued", reason=why)
    )


def fire(
    conn: Connection, ticket: TroubleTicket, policy: p.Policy | None, actor: str, now: datetime
) -> tuple[TroubleTicket, list[TicketEvent]] | None:
    """The worker's start of a queued report, inside its timer pass; the caller writes the report and
    its events. Nothing when the report is tracked already; a report cleared or cancelled meanwhile, or
    a worker without a policy, is not started and the trail says why."""
    if ticket.tracking is not None:
        return None
    if policy is None or ticket.status not in WATCHED_STATUSES:
        why = "no policy" if policy is None else f"report {ticket.status.value} before tracking started"
        history.append(
            conn, HistoryEntry(ticket.id, now, actor, etom.TRACK_AND_MANAGE, "trackingNotStarted", reason=why)
        )
        return None
    started, events = begin(conn, ticket, [], policy, actor, now)
    started = delegation.begin(conn, started, policy, actor, now)  # a service-layer fault: 1.4.6.1
    plan(conn, started, policy, actor, now)
    changed = [f for f in _REPORT_FIELDS if getattr(ticket, f) != getattr(started, f)]
    changed += list(_TRACKING_FIELDS)
    return started, [TicketEvent(EventKind.ATTRIBUTES_CHANGED, ticket.id, fields=tuple(changed)), *events]


def _first_contact_resolution(
    conn: Connection,
    ticket: TroubleTicket,
    events: list[TicketEvent],
    policy: p.Policy,
    actor: str,
    now: datetime,
) -> tuple[TroubleTicket, list[TicketEvent]]:
    """Perform Initial Diagnosis may resolve a report while the customer is on the line: the report is
    cleared at once (counted by `diagnosis.firstContactResolution`), and Track & Manage ends."""
    resolution = ticket.tracking.first_contact_resolution if ticket.tracking else None
    if not resolution:
        return ticket, events
    previous = ticket
    for status in (Status.IN_PROGRESS, Status.RESOLVED):
        reason = f"resolved at first contact: {resolution}" if status is Status.RESOLVED else None
        previous = ticket  # after the loop: the report before its clearing, which Close follows
        ticket, moved = change_ticket(ticket, {"status": status, "status_change_reason": reason}, now=now)
        ticket = close.follow(previous, ticket, closure.rules_for(policy, ticket), None, now)
        history.append_many(conn, history.of_change(ticket.id, moved, actor, now))
        events = [*events, *moved]
    track.stop_timers(conn, ticket.id, ticket.status, actor, now)
    track.ended(conn, ticket, actor, now)
    closure.followed(conn, previous, ticket, policy, None, actor, now)  # ask the customer, arm auto-close
    return ticket, events
