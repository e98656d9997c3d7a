"""Clearing the children of a restored mass outage inside a restore chunk's transaction (Report Customer
Product Restoration, 1.3.7.6.2). Children opened by the system are cleared in bulk; a customer's own report
under Track & Manage goes through the same rules as any clearing (work plan, closure, timers, End), and one
those rules refuse (a mandatory task still open) stays open with the reason in its audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from troubleflow.domain import close, etom
from troubleflow.domain import mass_outage as mo
from troubleflow.domain.events import TicketEvent
from troubleflow.domain.policy import Policy
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import TroubleflowError
from troubleflow.processes import closure, work_plan
from troubleflow.processes import tracking as track
from troubleflow.storage import history, outbox, tickets, timers
from troubleflow.storage.history import HistoryEntry


def clear(
    conn: Connection,
    cause: mo.Cause,
    resolution: str,
    children: list[TroubleTicket],
    policy: Policy | None,
    actor: str,
    now: datetime,
) -> tuple[list[str], list[str]]:
    """Clear the open children (the rows are locked by the caller); returns (cleared, left alone) ids. A
    child already cleared by this restoration (a chunk redone after a crash) counts as cleared."""
    changed: list[tuple[TroubleTicket, TroubleTicket]] = []
    events: list[list[TicketEvent]] = []
    entries: list[HistoryEntry] = []
    left: list[str] = []
    reason = mo.restore_reason(cause, resolution)
    for child in children:
        done = mo.restored(child, cause, resolution, now)
        if done is None:
            if child.status_change_reason != reason:
                left.append(child.id)
                entries.append(
                    HistoryEntry(
                        child.id,
                        now,
                        actor,
                        etom.REPORT_RESTORATION,
                        "restoreSkipped",
                        reason=f"report {child.status.value}: left alone",
                    )
                )
            continue
        updated, moved = done
        try:
            updated = _follow_rules(conn, child, updated, policy)
        except TroubleflowError as exc:
            entries.append(
                HistoryEntry(child.id, now, actor, etom.REPORT_RESTORATION, "notCleared", reason=exc.message)
            )
            continue
        changed.append((updated, child))
        events.append(moved)
        entries += history.of_change(child.id, moved, actor, now)
        entries.append(HistoryEntry(child.id, now, actor, etom.REPORT_RESTORATION, "restored", reason=reason))
    docs = tickets.save_many(conn, changed)
    outbox.add_many(conn, list(zip(events, docs, strict=True)), now)
    history.append_many(conn, entries)
    for updated, previous in changed:
        if previous.tracking is not None:
            _ended(conn, previous, updated, policy, actor, now)
    return [t.id for t, _ in changed], left


def _follow_rules(
    conn: Connection, current: TroubleTicket, updated: TroubleTicket, policy: Policy | None
) -> TroubleTicket:
    """The checks and state a clearing takes under Track & Manage (as `reports.change_report` applies)."""
    if current.tracking is None:
        return updated
    work_plan.check_clearable(conn, current, {"status": updated.status})
    assert updated.last_update is not None
    return close.follow(current, updated, closure.rules_for(policy, current), None, updated.last_update)


def _ended(
    conn: Connection,
    previous: TroubleTicket,
    updated: TroubleTicket,
    policy: Policy | None,
    actor: str,
    now: datetime,
) -> None:
    """End (1.3.7.3.3) for a tracked child: its plan ends, its timers stop, Close takes over."""
    work_plan.followed(conn, previous, updated, policy, actor, now)
    if timers.cancel_for_ticket(conn, updated.id, now):
        history.append(
            conn,
            HistoryEntry(
                updated.id,
                now,
                actor,
                etom.ESCALATE_END,
                "timersStopped",
                reason=f"report {updated.status.value}",
            ),
        )
    track.ended(conn, updated, actor, now)
    closure.followed(conn, previous, updated, policy, None, actor, now)
