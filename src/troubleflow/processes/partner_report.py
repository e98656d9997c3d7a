"""What a partner's progress does to our report (inside the caller's transaction, the report row locked):
a note on the report, the report's first `inProgress`, and the delegated tasks of the work plan done
(`partner-ticket` when the partner accepts, `partner-follow-up` when it restores), their successors
released (docs/partners.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from troubleflow.domain import etom
from troubleflow.domain import policy as p
from troubleflow.domain import work_plan as wp
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import Note, TroubleTicket, change_ticket
from troubleflow.errors import Conflict
from troubleflow.processes import tracking as track
from troubleflow.storage import history, outbox, tasks, tickets
from troubleflow.storage.history import HistoryEntry


def progressed(
    conn: Connection,
    report: TroubleTicket,
    note: str,
    finished: Sequence[str],
    policy: p.Policy | None,
    actor: str,
    now: datetime,
) -> TroubleTicket:
    """Tell the report (note; an acknowledged report goes inProgress) and finish its open tasks planned
    from the `finished` templates, in order."""
    for template in finished:
        _finish(conn, report.id, template, note, actor, now)
    changes: dict[str, Any] = {"note": [*report.note, Note(text=note, author=actor)]}
    if report.status is Status.ACKNOWLEDGED:
        changes["status"] = Status.IN_PROGRESS
        changes["status_change_reason"] = "delegated to a partner (1.6.10)"
    updated, events = change_ticket(report, changes, now=now)
    if not events:
        return report
    updated, clock_moved = track.follow(report, updated, policy, now)
    doc = tickets.save(conn, updated, previous=report)
    if doc is None:
        raise Conflict(f"ticket '{report.id}' was changed concurrently; try again")
    history.append_many(conn, history.of_change(updated.id, events, actor, now))
    if clock_moved and policy is not None:
        track.clock_moved(conn, updated, policy, actor, now)
    outbox.add(conn, events, doc, now)
    return updated


def _finish(conn: Connection, ticket_id: str, template: str, why: str, actor: str, now: datetime) -> None:
    plan = tasks.for_ticket(conn, ticket_id)
    task = next((t for t in plan.values() if t.template == template and t.is_open), None)
    if task is None:
        return
    done = wp.change(
        task, plan, wp.TaskChange(state=wp.TaskState.DONE, given=frozenset({"state"})), actor, now
    )
    after = {**plan, done.id: done}
    released = wp.release(after)
    after.update({t.id: t for t in released})
    tasks.save_many(conn, [(t, plan[t.id]) for t in after.values() if t != plan[t.id]])
    label = f"task {done.id} '{done.name}'"
    entries = [HistoryEntry(ticket_id, now, actor, etom.COORDINATE, "taskDone", reason=f"{label}: {why}")]
    entries += [
        HistoryEntry(
            ticket_id,
            now,
            actor,
            etom.COORDINATE,
            "taskReady",
            reason=f"task {t.id} '{t.name}': predecessors done",
        )
        for t in released
    ]
    history.append_many(conn, entries)
