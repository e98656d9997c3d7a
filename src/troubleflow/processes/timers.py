"""Durable timers of customer problem reports: arm them, and fire the due ones (worker).

A firing runs its effect, its audit-trail entry, its outbox events and the timer's own `fired` mark in
one transaction, so every due timer fires exactly once, also across restarts and several workers.
Kinds:
- `jeopardy` (Monitor Customer Problem Jeopardy Status, 1.3.7.3.4): payload `{"threshold": 75}`; the
  report's `jeopardy` is raised to that threshold (never lowered), the escalation matrix may raise its
  `escalationLevel` (Escalate Customer Problem, 1.3.7.3.3; never lowered), and subscribers hear of it.
- `progress` (customer progress update, Notify Customer Problem 1.3.7.2.4): see `processes/progress.py`.
- `autoClose` (Close Customer Problem Report 1.3.7.4, no customer answer): see `processes/closure.py`.
- `partnerPoll`, `partnerSilence` (following a partner's ticket, 1.6.10.4): see `processes/partner_timers.py`.
- `trackStart` (Track & Manage's start left to the worker, 1.3.7.3): see `processes/track_start.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from troubleflow.clock import Clock
from troubleflow.domain import etom, tracking
from troubleflow.domain.escalation import THRESHOLD
from troubleflow.domain.events import TicketEvent
from troubleflow.domain.jeopardy import raise_jeopardy
from troubleflow.domain.policy import EscalationStep, Policy
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.processes import closure, escalation, partner_timers, progress, restoration, track_start
from troubleflow.processes.jeopardy_timers import JEOPARDY, jeopardy_timer
from troubleflow.storage import history, outbox, tickets, timers
from troubleflow.storage.db import Database
from troubleflow.storage.history import HistoryEntry
from troubleflow.storage.timers import ArmRequest

log = logging.getLogger(__name__)

ACTOR = "timer"


@dataclass(frozen=True, slots=True)
class Fired:
    fired: int  # timers consumed this pass
    changed: int  # reports whose state changed (a timer of a cleared report changes nothing)


def _escalate(
    ticket: TroubleTicket, policy: Policy | None, threshold: int
) -> tuple[TroubleTicket, EscalationStep | None]:
    """Escalate Customer Problem by the matrix of the policy the report was committed under."""
    if not tracking.governs(policy, ticket.tracking):
        return ticket, None
    assert policy is not None and ticket.tracking is not None
    state, step = tracking.escalate(policy, ticket.tracking, threshold)
    return (replace(ticket, tracking=state), step) if step is not None else (ticket, None)


def _next_threshold(ticket: TroubleTicket, policy: Policy | None, threshold: int) -> list[ArmRequest]:
    """A fired jeopardy threshold arms the next one (Track & Manage keeps one armed timer per report)."""
    if not tracking.governs(policy, ticket.tracking):
        return []
    assert policy is not None and ticket.tracking is not None
    nxt = tracking.next_deadline(policy, ticket.tracking, threshold)
    return [jeopardy_timer(ticket.id, nxt[1], nxt[0])] if nxt else []


def arm(db: Database, requests: Sequence[ArmRequest], *, clock: Clock) -> None:
    with db.begin() as conn:
        timers.arm_many(conn, requests, clock.now())


def fire_due(db: Database, *, clock: Clock, limit: int = 500, policy: Policy | None = None) -> Fired:
    """Fire up to `limit` due timers in one transaction: their reports are read, changed and written
    in bulk (one statement each for reports, audit trail and outbox). With the policy, a jeopardy
    threshold also escalates the report by the escalation matrix (1.3.7.3.3)."""
    with db.begin() as conn:
        now = clock.now()
        due = timers.claim_due(conn, now, limit)
        if not due:
            return Fired(0, 0)
        current = tickets.get_many_for_update(conn, [t.ticket_id for t in due])
        original = dict(current)
        events: dict[str, list[TicketEvent]] = {}
        entries = []
        chained: list[ArmRequest] = []
        for item in due:
            ticket = current.get(item.ticket_id)
            if ticket is None:  # the report was deleted: nothing left to act on
                continue
            if item.kind == progress.PROGRESS:  # customer-facing progress update (processes/progress.py)
                told = progress.fire(conn, ticket, item.due_at, int(item.payload["interval"]), ACTOR, now)
                if told is not None:
                    current[item.ticket_id] = told.ticket
                    events.setdefault(item.ticket_id, []).extend(told.events)
                    entries += told.entries
                    chained += told.arms
                continue
            if item.kind == closure.AUTO_CLOSE:  # closes a cleared report nobody answered about
                blocked = restoration.close_blocked(conn, ticket, policy)  # major problem review, 1.3.7.6.7
                if blocked is not None:
                    entries.append(
                        HistoryEntry(ticket.id, now, ACTOR, etom.CLOSE, "autoCloseBlocked", reason=blocked)
                    )
                    continue
                done = closure.fire(ticket, policy, ACTOR, now)
                entries += done.entries
                if done.events:
                    current[item.ticket_id] = done.ticket
                    events.setdefault(item.ticket_id, []).extend(done.events)
                continue
            if item.kind == track_start.START:  # Track & Manage left to the worker (intake.start_tracking)
                started = track_start.fire(conn, ticket, policy, ACTOR, now)
                if started is not None:
                    current[item.ticket_id] = started[0]
                    events.setdefault(item.ticket_id, []).extend(started[1])
                continue
            if item.kind in partner_timers.KINDS:  # a partner's ticket followed (changes no report)
                chained += partner_timers.fire(conn, ticket, item, policy, ACTOR, now)
                continue
            if item.kind != JEOPARDY:
                log.error("timer %s has unknown kind %r; marked fired without effect", item.id, item.kind)
                continue
            threshold = int(item.payload["threshold"])
            updated, raised = raise_jeopardy(ticket, threshold, now=now)
            if not raised:
                continue
            entries.append(
                HistoryEntry(
                    item.ticket_id,
                    now,
                    ACTOR,
                    item.process_id,
                    "jeopardy",
                    reason=f"{threshold} % of the committed restoration time elapsed",
                    fields=("jeopardy",),
                )
            )
            chained += _next_threshold(updated, policy, threshold)
            updated, step = _escalate(updated, policy, threshold)
            if step is not None:
                raised = [replace(e, fields=(*e.fields, "escalation_level")) for e in raised]
                entries.append(
                    HistoryEntry(
                        item.ticket_id,
                        now,
                        ACTOR,
                        etom.ESCALATE_END,
                        "escalated",
                        reason=tracking.describe(step),
                    )
                )
                why = f"{threshold} % of the committed restoration time elapsed"
                escalation.take(
                    conn, updated, step, policy, cause=THRESHOLD, reason=why, actor=ACTOR, now=now
                )
            current[item.ticket_id] = updated
            events.setdefault(item.ticket_id, []).extend(raised)
        changed = [(current[tid], original[tid]) for tid in events]
        docs = tickets.save_many(conn, changed)
        history.append_many(conn, entries)
        # Events carry the report as written by this pass (after all of its timers in the batch).
        outbox.add_many(conn, [(events[t.id], doc) for (t, _), doc in zip(changed, docs, strict=True)], now)
        timers.mark_fired(conn, [t.id for t in due], now)
        timers.arm_many(conn, chained, now)
    return Fired(len(due), len(changed))
