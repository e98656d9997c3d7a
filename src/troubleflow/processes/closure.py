"""Close Customer Problem Report (1.3.7.4) inside the report use cases and the timer pass: after a report
change, ask the customer (1.3.7.4.1) and arm the auto-close when it is cleared, end the auto-close when it
is answered, reopened or closed, and record validation, restoration time and finalization (1.3.7.4.2-.4);
the `autoClose` timer closes a cleared report nobody answered about. Each function runs inside its
caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from troubleflow.domain import close, etom
from troubleflow.domain import policy as p
from troubleflow.domain.closure import Answer, Closure
from troubleflow.domain.events import TicketEvent
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.storage import history, timers
from troubleflow.storage.history import HistoryEntry
from troubleflow.storage.timers import ArmRequest

AUTO_CLOSE = "autoClose"


@dataclass(frozen=True, slots=True)
class Fired:
    """What one auto-close firing changes, for the timer pass to write with the rest of its batch."""

    ticket: TroubleTicket
    events: list[TicketEvent]
    entries: list[HistoryEntry]


def rules_for(policy: p.Policy | None, ticket: TroubleTicket) -> p.CloseRules | None:
    """The close rules in force for a report under Track & Manage (None: outside it, nothing required)."""
    return policy.close if policy is not None and ticket.tracking is not None else None


def auto_close_timer(ticket_id: str, due_at: datetime) -> ArmRequest:
    return ArmRequest(ticket_id, AUTO_CLOSE, etom.CLOSE, due_at, {})


def followed(
    conn: Connection,
    previous: TroubleTicket,
    updated: TroubleTicket,
    policy: p.Policy | None,
    answer: Answer | None,
    actor: str,
    now: datetime,
) -> None:
    """The effects of a written report change on its closure. Runs after End stopped the report's timers,
    so the auto-close armed on clearing survives them."""
    entries: list[HistoryEntry] = []
    if answer is not None:
        entries.append(_entry(updated, now, actor, etom.CONTACT_CUSTOMER, "customerAnswered", _said(answer)))
    old, new = previous.status, updated.status
    state = updated.closure or Closure()
    if new is Status.RESOLVED and old is not Status.RESOLVED:
        if state.survey_requested is not None:
            why = "asked to confirm the fix and rate satisfaction"
            entries.append(_entry(updated, now, actor, etom.CONTACT_CUSTOMER, "customerContacted", why))
        rules = rules_for(policy, updated)
        if rules is not None and rules.auto_close_after is not None:
            due = now + rules.auto_close_after
            timers.arm_many(conn, [auto_close_timer(updated.id, due)], now)
            why = f"closes at {due.isoformat()} without a customer answer"
            entries.append(_entry(updated, now, actor, etom.CLOSE, "autoCloseArmed", why))
    elif old is Status.RESOLVED and new is not Status.RESOLVED:
        timers.cancel_kind(conn, updated.id, AUTO_CLOSE, now)
        if new is Status.IN_PROGRESS:
            process = etom.CONTACT_CUSTOMER if answer is not None else etom.CLOSE
            why = f"not fixed; reopen {state.reopen_count}"
            entries.append(_entry(updated, now, actor, process, "reopened", why))
        elif new is Status.CLOSED:
            entries += closed_entries(updated, actor, now)
    history.append_many(conn, entries)


def closed_entries(ticket: TroubleTicket, actor: str, now: datetime) -> list[HistoryEntry]:
    """Validate (1.3.7.4.2), record the restoration time (1.3.7.4.3) and finalize (1.3.7.4.4)."""
    root = close.text_of(ticket, close.ROOT_CAUSE) or "-"
    validated = f"root cause: {root}; resolution: {close.resolution_of(ticket) or '-'}"
    restored = ticket.resolution_date
    took = (
        f", {restored - ticket.creation_date} after the report" if restored and ticket.creation_date else ""
    )
    restoration = f"restored at {restored.isoformat()}{took}" if restored else "no restoration time"
    method = ticket.closure.method if ticket.closure else None
    return [
        _entry(ticket, now, actor, etom.VALIDATE_REPORT, "validated", validated),
        _entry(ticket, now, actor, etom.UPDATE_RESTORATION_TIME, "restorationTimeRecorded", restoration),
        _entry(ticket, now, actor, etom.FINALIZE_REPORT, "finalized", f"closed: {method or 'closed'}"),
    ]


def fire(ticket: TroubleTicket, policy: p.Policy | None, actor: str, now: datetime) -> Fired:
    """The auto-close timer fell due: close the report without an answer (`closureMethod` autoClosed), or,
    when it lacks what the policy requires, record `autoCloseBlocked` naming it and leave it cleared."""
    closed, events, absent = close.auto_close(ticket, rules_for(policy, ticket), now)
    if absent:
        why = f"missing {', '.join(absent)}; the report stays resolved until an agent closes it"
        return Fired(ticket, [], [_entry(ticket, now, actor, etom.CLOSE, "autoCloseBlocked", why)])
    if not events:
        return Fired(ticket, [], [])  # answered, reopened or closed meanwhile
    changed = HistoryEntry(
        ticket.id,
        now,
        actor,
        etom.CLOSE,
        "statusChanged",
        old_status=ticket.status.value,
        new_status=closed.status.value,
        reason=closed.status_change_reason,
    )
    return Fired(closed, events, [changed, *closed_entries(closed, actor, now)])


def _said(answer: Answer) -> str:
    parts = ["fixed" if answer.fixed else "not fixed"]
    if answer.score is not None:
        parts.append(f"score {answer.score}")
    text = ", ".join(parts)
    return f"{text}: {answer.comment}" if answer.comment else text


def _entry(
    ticket: TroubleTicket, now: datetime, actor: str, process: str, action: str, reason: str
) -> HistoryEntry:
    return HistoryEntry(ticket.id, now, actor, process, action, reason=reason)
