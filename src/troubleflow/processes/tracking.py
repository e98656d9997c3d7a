"""Track & Manage Customer Problem (1.3.7.3) inside the report use cases: started when a report is created,
following every status change (clock-stops, End), and acting when a jeopardy timer fires (escalation).
Each function runs inside its caller's transaction and writes its audit entries there."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from troubleflow.domain import etom, tracking
from troubleflow.domain import policy as p
from troubleflow.domain.jeopardy import WATCHED_STATUSES
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.processes.jeopardy_timers import JEOPARDY, jeopardy_timer
from troubleflow.processes.progress import PROGRESS
from troubleflow.storage import history, timers
from troubleflow.storage.history import HistoryEntry

ACTOR = "troubleflow"
# The timers a clock-stop pauses: the jeopardy thresholds and the customer progress updates run on the SLA
# clock. A delegate's timers (a partner's poll and silence check, docs/partners.md) go on: the partner's
# commitment does not stop while our report waits.
CLOCK_TIMERS = (JEOPARDY, PROGRESS)


def begin(
    conn: Connection,
    ticket: TroubleTicket,
    policy: p.Policy,
    requested: dict[str, str],
    now: datetime,
    *,
    since: datetime | None = None,
) -> TroubleTicket:
    """Start Track & Manage Customer Problem for a new report: diagnose, prioritize, commit a restoration
    time, arm the jeopardy timers. The SLA clock runs from `since` (the report's creation, when the
    worker starts it later; default `now`). Returns the report with its tracking state."""
    values = {
        "ticket_type": ticket.ticket_type,
        "name": ticket.name,
        "description": ticket.description,
        "severity": ticket.severity,
        "channel": ticket.channel,
    }
    diagnosis = tracking.diagnose(policy, tracking.facts_of(values, requested), requested)
    explicit = _policy_priority(policy, ticket.priority)
    if explicit is not None:
        diagnosis = replace(diagnosis, priority=explicit)
    state = tracking.start(policy, diagnosis, requested.get("slaClass"), since or now)
    updated = replace(
        ticket,
        tracking=state,
        priority=ticket.priority or state.priority,
        expected_resolution_date=ticket.expected_resolution_date or state.commitment,
        extensions={k: v for k, v in ticket.extensions.items() if k not in tracking.REQUESTED},
    )
    _arm(conn, ticket.id, policy, state, now)
    prioritized = f"impact {state.impact} x urgency {state.urgency} -> {state.priority}"
    steps = [
        (etom.TRACK_AND_MANAGE, "trackingStarted", f"policy {policy.version}"),
        (etom.INITIAL_DIAGNOSIS, "diagnosed", _diagnosis_text(diagnosis)),
        (etom.PRIORITIZE, "prioritized", prioritized + (" (requested by the client)" if explicit else "")),
        (
            etom.MONITOR_JEOPARDY,
            "restorationCommitted",
            f"SLA {state.sla_class}, {state.priority}: restore by {_iso(state.commitment)}",
        ),
    ]
    history.append_many(
        conn,
        [HistoryEntry(ticket.id, now, ACTOR, process, action, reason=why) for process, action, why in steps],
    )
    return updated


def follow(
    previous: TroubleTicket, updated: TroubleTicket, policy: p.Policy | None, now: datetime
) -> tuple[TroubleTicket, bool]:
    """Keep the SLA clock with a status change (pure; `clock_moved` applies the effects once the report
    is written): stop it while the report waits (clock-stop statuses of its SLA class), restart it
    afterwards, and resume it when a cleared report is reopened (the time it stood cleared does not
    count). Returns the report and whether the clock stopped or restarted."""
    state = updated.tracking
    if previous.status == updated.status or updated.status not in WATCHED_STATUSES:
        return updated, False  # End is recorded by the caller together with the timers it stops
    if not tracking.governs(policy, state):
        return updated, False
    assert policy is not None and state is not None
    if previous.status is Status.RESOLVED:  # reopened: the cleared interval was a clock-stop
        moved: tracking.Tracking | None = tracking.reopen(
            policy, state, previous.status_change_date or now, now
        )
    else:
        moved = tracking.follow_status(policy, state, previous.status, updated.status, now)
    if moved is None:
        return updated, False
    expected = moved.commitment or updated.expected_resolution_date
    return replace(updated, tracking=moved, expected_resolution_date=expected), True


def clock_moved(conn: Connection, ticket: TroubleTicket, policy: p.Policy, actor: str, now: datetime) -> None:
    """The effects of a stopped or restarted SLA clock: pause the jeopardy timers, or arm the remaining
    thresholds (above the jeopardy already reached) at their moved instants."""
    state = ticket.tracking
    assert state is not None
    if state.commitment is None:
        stopped = timers.cancel_for_ticket(conn, ticket.id, now, kinds=CLOCK_TIMERS)
        reason = f"status {ticket.status.value}; {stopped} timer(s) paused"
        _log(conn, ticket.id, now, etom.MONITOR_JEOPARDY, "clockStopped", reason, actor)
        return
    above = ticket.jeopardy.threshold if ticket.jeopardy else 0
    _arm(conn, ticket.id, policy, state, now, above=above)
    reason = f"restore by {_iso(state.commitment)}"
    _log(conn, ticket.id, now, etom.MONITOR_JEOPARDY, "clockRestarted", reason, actor)


def stop_timers(conn: Connection, ticket_id: str, status: Status, actor: str, now: datetime) -> None:
    """End (1.3.7.3.3): a cleared, cancelled or closed report stops its jeopardy timers."""
    if timers.cancel_for_ticket(conn, ticket_id, now):
        history.append(
            conn,
            HistoryEntry(
                ticket_id, now, actor, etom.ESCALATE_END, "timersStopped", reason=f"report {status.value}"
            ),
        )


def ended(conn: Connection, ticket: TroubleTicket, actor: str, now: datetime) -> None:
    """End Track & Manage Customer Problem (1.3.7.3.3 Escalate/End): hand over to Close."""
    if ticket.tracking is not None:
        _log(conn, ticket.id, now, etom.ESCALATE_END, "trackingEnded", f"report {ticket.status.value}", actor)


def _arm(
    conn: Connection,
    ticket_id: str,
    policy: p.Policy,
    state: tracking.Tracking,
    now: datetime,
    above: int = 0,
) -> None:
    """Arm the next jeopardy threshold only; its firing arms the one after (processes.timers). One armed
    timer per open report keeps creates cheap and the armed-timer index a quarter of the size."""
    nxt = tracking.next_deadline(policy, state, above)
    if nxt is not None:
        timers.arm_many(conn, [jeopardy_timer(ticket_id, nxt[1], nxt[0])], now)


def _policy_priority(policy: p.Policy, given: str | None) -> str | None:
    """A client-given priority naming a policy priority (by id or name) is taken as explicit."""
    if not given:
        return None
    wanted = given.strip().lower()
    return next((x.id for x in policy.priorities if wanted in (x.id.lower(), x.name.lower())), None)


def _diagnosis_text(d: tracking.Diagnosis) -> str:
    parts = [f"category {d.category}", f"rules {', '.join(d.rules) or 'none'}"]
    if d.workgroup:
        parts.append(f"workgroup {d.workgroup}")
    if d.false_report:
        parts.append(f"flagged false: {d.false_report}")
    if d.first_contact_resolution:
        parts.append(f"resolvable at first contact: {d.first_contact_resolution}")
    return "; ".join(parts)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else "(clock stopped)"


def _log(
    conn: Connection,
    ticket_id: str,
    now: datetime,
    process: str,
    action: str,
    reason: str,
    actor: str = ACTOR,
) -> None:
    history.append(conn, HistoryEntry(ticket_id, now, actor, process, action, reason=reason))
