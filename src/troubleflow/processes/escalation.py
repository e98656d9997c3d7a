"""Escalate Customer Problem (1.3.7.3.3): record a step and queue its notifications (inside the caller's
transaction: a timer firing, a forecast breach, a manual step), and the escalation use cases: a NOC
engineer's manual step, a report's steps, the NOC view, and notifications listed and replayed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection

from troubleflow.clock import Clock
from troubleflow.domain import escalation as esc
from troubleflow.domain import etom, tracking
from troubleflow.domain import policy as p
from troubleflow.domain.events import EventKind, TicketEvent
from troubleflow.domain.jeopardy import WATCHED_STATUSES
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import Conflict, InvalidInput
from troubleflow.storage import escalations, history, notifications, outbox, tickets
from troubleflow.storage.db import Database
from troubleflow.storage.escalations import Step
from troubleflow.storage.history import HistoryEntry
from troubleflow.storage.notifications import Notification

OPEN_STATUSES = tuple(sorted(s.value for s in WATCHED_STATUSES))


@dataclass(frozen=True, slots=True)
class StepTold:
    """A recorded step with the notifications of its list."""

    step: Step
    notifications: list[Notification]


def take(
    conn: Connection,
    ticket: TroubleTicket,
    step: p.EscalationStep,
    policy: p.Policy | None,
    *,
    cause: str,
    reason: str,
    actor: str,
    now: datetime,
) -> bool:
    """Record the step the report (as escalated) just took and queue one notification per recipient of
    its list. A step is recorded once per (report, level): False when it already was (nobody is told
    twice)."""
    row = Step(0, ticket.id, step.level, cause, step.threshold, step.role, step.workgroup, step.notify,
               actor, reason, now)  # fmt: skip
    escalation_id = escalations.add(conn, row)
    if escalation_id is None:
        return False
    if step.notify and policy is not None:
        recipients = p.notification_list(policy, step.notify)
        notices = esc.notices(ticket, step, recipients, reason)
        facts = esc.facts(ticket, step, cause, reason, now)
        notifications.add_many(conn, escalation_id, ticket.id, step.level, step.notify, notices, facts, now)
    return True


def save_raised(
    conn: Connection, current: TroubleTicket, state: tracking.Tracking, fields: tuple[str, ...], now: datetime
) -> TroubleTicket:
    """Write the report with its new Track & Manage state (version, last update, event to the outbox)."""
    updated = replace(current, tracking=state, version=current.version + 1, last_update=now)
    doc = tickets.save(conn, updated, previous=current)
    if doc is None:
        raise Conflict(f"ticket '{current.id}' was changed concurrently; try again")
    outbox.add(conn, [TicketEvent(EventKind.ATTRIBUTES_CHANGED, current.id, fields=fields)], doc, now)
    return updated


# -- use cases -------------------------------------------------------------------------------------------


def escalate(
    db: Database,
    ticket_id: str,
    level: int,
    reason: str,
    *,
    clock: Clock,
    actor: str,
    policy: p.Policy | None,
    role: str | None = None,
    workgroup: str | None = None,
    notify: str | None = None,
) -> StepTold:
    """A NOC engineer escalates an open report by hand: only upwards (Conflict otherwise, nothing
    changed), to the role, workgroup and list given or the matrix cell of that level."""
    if not reason.strip():
        raise InvalidInput("a manual escalation needs a reason", field="reason")
    with db.begin() as conn:
        current = tickets.get_for_update(conn, ticket_id)
        state = current.tracking
        if state is None or current.status not in WATCHED_STATUSES:
            raise Conflict(f"report '{ticket_id}' is not open under Track & Manage: it cannot be escalated")
        governing = policy if tracking.governs(policy, state) else None
        step = esc.manual_step(
            governing,
            state.priority,
            state.escalation_level,
            level,
            role=role,
            workgroup=workgroup,
            notify=notify,
        )
        if notify is not None and governing is None and policy is not None:
            step = replace(step, notify=p.notification_list(policy, notify).id)
            governing = policy
        now = clock.now()
        updated = save_raised(conn, current, tracking.raised(state, step), ("escalation_level",), now)
        described = f"{tracking.describe(step)} (by hand: {reason.strip()})"
        history.append(
            conn, HistoryEntry(ticket_id, now, actor, etom.ESCALATE_END, "escalated", reason=described)
        )
        take(conn, updated, step, governing, cause=esc.MANUAL, reason=reason.strip(), actor=actor, now=now)
        return StepTold(
            escalations.for_ticket(conn, ticket_id)[-1], notifications.for_ticket(conn, ticket_id)
        )


def report_escalation(db: Database, ticket_id: str) -> tuple[TroubleTicket, list[StepTold]]:
    """A report with its escalation steps, each with the notifications of its list and their states."""
    with db.read() as conn:
        ticket = tickets.get(conn, ticket_id)
        told = notifications.for_ticket(conn, ticket_id)
        steps = escalations.for_ticket(conn, ticket_id)
    return ticket, [StepTold(s, [n for n in told if n.escalation_id == s.id]) for s in steps]


def escalated_reports(
    db: Database, level: int, offset: int, limit: int
) -> tuple[list[tuple[TroubleTicket, int, datetime]], int]:
    """The NOC view: open reports escalated at or above `level`, highest level first, and the total."""
    with db.read() as conn:
        return escalations.escalated_open(conn, level, OPEN_STATUSES, offset, limit)


def list_notifications(
    db: Database, state: str | None, offset: int = 0, limit: int = 100
) -> tuple[list[Notification], int]:
    if state is not None and state not in notifications.STATES:
        raise InvalidInput(f"state must be one of {', '.join(notifications.STATES)}", field="state")
    with db.read() as conn:
        return notifications.listed(conn, state, offset, limit)


def replay_notifications(db: Database, ids: Sequence[int] | None, *, clock: Clock) -> int:
    """Put parked notifications back in line (all parked ones when `ids` is None); NotFound when one of
    the given ones is not parked."""
    with db.begin() as conn:
        return notifications.replay(conn, ids, clock.now())
