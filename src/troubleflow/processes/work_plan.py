"""Coordinate Customer Problem (1.3.7.3.1): the work plan of a report. Planned when Track & Manage starts,
worked task by task in sequence (each update rolls into the report: the flow's *Monitor Resolution
Update*), guarding the clearing of the report, and cancelled with it (Cancel Customer Problem, 1.3.7.3.2).

`begin`, `check_clearable` and `followed` run inside the report use cases' transactions; the task use
cases (`list_tasks`, `update_task`, `add_task`) own theirs and lock the report's row first, so a task
change and its roll-up into the report commit together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection

from troubleflow.clock import Clock
from troubleflow.domain import etom, tracking
from troubleflow.domain import policy as p
from troubleflow.domain import work_plan as wp
from troubleflow.domain.calendar import add_working_time
from troubleflow.domain.jeopardy import WATCHED_STATUSES
from troubleflow.domain.status import TRANSITIONS, Status
from troubleflow.domain.ticket import Note, TroubleTicket, change_ticket
from troubleflow.errors import Conflict, InvalidInput, PreconditionFailed
from troubleflow.processes import jeopardy_input, progress
from troubleflow.processes import tracking as track
from troubleflow.storage import history, outbox, tasks, tickets
from troubleflow.storage.db import Database
from troubleflow.storage.history import HistoryEntry

ACTOR = "troubleflow"


@dataclass(frozen=True, slots=True)
class NewTask:
    """An ad-hoc task an engineer adds to a report's plan."""

    name: str
    workgroup: str | None = None
    skill: str | None = None
    assignee: str | None = None
    mandatory: bool = True
    depends_on: tuple[str, ...] = ()
    duration: timedelta = timedelta(hours=1)


def _finish(policy: p.Policy) -> wp.Finish:
    """A task's effort counted in its workgroup's working time (wall-clock for a group without calendar)."""

    def finish(workgroup: str | None, start: datetime, effort: timedelta) -> datetime:
        group = next((w for w in policy.workgroups if w.id == workgroup), None)
        spec = next((c for c in policy.calendars if group and c.id == group.calendar), None)
        if spec is None:
            return _wall_clock(workgroup, start, effort)
        return add_working_time(tracking.calendar_of(spec), start, effort)

    return finish


def _wall_clock(_workgroup: str | None, start: datetime, effort: timedelta) -> datetime:
    return start + effort


def _interval(policy: p.Policy | None, ticket: TroubleTicket) -> timedelta | None:
    if not tracking.governs(policy, ticket.tracking):
        return None
    assert policy is not None and ticket.tracking is not None
    return p.progress_interval(policy, ticket.tracking.priority)


def _region(ticket: TroubleTicket) -> str | None:
    return wp.region_of(ticket.extensions, ((r.role, r.id) for r in ticket.related_entity))


def begin(conn: Connection, ticket: TroubleTicket, policy: p.Policy, now: datetime) -> None:
    """Plan the new report's work from its category's template, assign every task by policy and arm the
    first customer progress update. A report cleared at first contact needs no plan."""
    if ticket.tracking is None or ticket.status not in WATCHED_STATUSES:
        return
    planned = wp.plan(
        policy,
        ticket.id,
        ticket.tracking.category,
        region=_region(ticket),
        load=partial(tasks.load, conn),
        fallback=ticket.tracking.workgroup,
        finish=_finish(policy),
        now=now,
    )
    tasks.add_many(conn, [x.task for x in planned])
    history.append_many(
        conn,
        [
            HistoryEntry(ticket.id, now, ACTOR, etom.COORDINATE, "taskPlanned", reason=_planned_text(x))
            for x in planned
        ],
    )
    progress.arm_next(conn, ticket, _interval(policy, ticket), now, new=True)


def _planned_text(x: wp.Planned) -> str:
    t = x.task
    after = f", after {', '.join(t.depends_on)}" if t.depends_on else ""
    kind = "mandatory" if t.mandatory else "optional"
    due = t.due.isoformat() if t.due else "-"
    return f"task {t.id} '{t.name}' ({kind}{after}) to {t.workgroup or 'nobody'}: {x.assignment}; due {due}"


def check_clearable(conn: Connection, current: TroubleTicket, changes: dict[str, Any]) -> None:
    """Refuse clearing (TMF `resolved`) while a mandatory task of the plan is open; nothing is written."""
    if changes.get("status") is Status.RESOLVED and Status.RESOLVED in TRANSITIONS[current.status]:
        wp.check_clearable(tasks.for_ticket(conn, current.id).values())


def followed(
    conn: Connection,
    previous: TroubleTicket,
    updated: TroubleTicket,
    policy: p.Policy | None,
    actor: str,
    now: datetime,
) -> None:
    """After a report change: a report that is no longer open ends its plan (Cancel Customer Problem
    cascades to the open tasks; clearing ends the optional ones left); for an open report, the next
    customer progress update is moved or armed."""
    if updated.status not in WATCHED_STATUSES:
        if previous.status in WATCHED_STATUSES:
            _end_plan(conn, updated, actor, now)
        return
    _told(conn, previous, updated, policy, now)


def _told(
    conn: Connection, previous: TroubleTicket, updated: TroubleTicket, policy: p.Policy | None, now: datetime
) -> None:
    """A new status or note tells the customer something: the next progress update moves one interval on;
    any other change only makes sure one is armed (after a reopen or a restarted SLA clock)."""
    interval = _interval(policy, updated)
    if updated.status != previous.status or len(updated.note) > len(previous.note):
        progress.heard(conn, updated, interval, now)
    else:
        progress.arm_next(conn, updated, interval, now)


def _end_plan(conn: Connection, ticket: TroubleTicket, actor: str, now: datetime) -> None:
    plan = tasks.for_ticket(conn, ticket.id)
    why = f"report {ticket.status.value}" + (
        f": {ticket.status_change_reason}" if ticket.status_change_reason else ""
    )
    ended = wp.cancel_open(plan.values(), why, now)
    tasks.save_many(conn, [(t, plan[t.id]) for t in ended])
    process = etom.CANCEL if ticket.status is Status.CANCELLED else etom.COORDINATE
    history.append_many(
        conn,
        [HistoryEntry(ticket.id, now, actor, process, "taskCancelled", reason=_label(t, why)) for t in ended],
    )


def _label(t: wp.Task, what: str) -> str:
    return f"task {t.id} '{t.name}': {what}"


# -- use cases -------------------------------------------------------------------------------------------


def list_tasks(db: Database, ticket_id: str) -> list[wp.Task]:
    with db.read() as conn:
        tickets.get(conn, ticket_id)  # NotFound for an unknown report
        return list(tasks.for_ticket(conn, ticket_id).values())


def get_task(db: Database, ticket_id: str, task_id: str) -> wp.Task:
    with db.read() as conn:
        tickets.get(conn, ticket_id)
        return tasks.get(tasks.for_ticket(conn, ticket_id), ticket_id, task_id)


def update_task(
    db: Database,
    ticket_id: str,
    task_id: str,
    wanted: wp.TaskChange,
    *,
    clock: Clock,
    actor: str,
    if_match: int | None = None,
    policy: p.Policy | None = None,
) -> wp.Task:
    """Work a task (start, finish, cancel an optional one, assign, give an ETA, add a note) and roll the
    update into the report: the note (marked with the task), the report's first `inProgress`, and the
    plan's expected resolution when the update moved it. With `if_match` a stale task version is refused."""
    with db.begin() as conn:
        current = tickets.get_for_update(conn, ticket_id)
        plan = tasks.for_ticket(conn, ticket_id)
        task = tasks.get(plan, ticket_id, task_id)
        if if_match is not None and task.version != if_match:
            raise PreconditionFailed(
                f"task {task_id} is at version {task.version}, not {if_match} (If-Match)"
            )
        if current.status not in WATCHED_STATUSES:
            raise Conflict(f"report '{ticket_id}' is {current.status.value}: its work plan is closed")
        if "workgroup" in wanted.given and wanted.workgroup:
            _check_workgroup(policy, wanted.workgroup)
        now = clock.now()
        changed = wp.change(task, plan, wanted, actor, now)
        if changed == task:
            return task
        after = _settle(conn, plan, changed, actor, now)
        _roll_up(conn, current, plan, after, changed, wanted, actor, now, policy)
        if "eta" in wanted.given and changed.eta != task.eta:  # a delegate's forecast (1.3.7.3.4)
            source = f"task {changed.id} ({changed.workgroup or 'unowned'})"
            jeopardy_input.eta_reported(
                conn, tickets.get(conn, ticket_id), changed.eta, source, policy, actor, now
            )
        return after[task_id]


def add_task(
    db: Database, ticket_id: str, new: NewTask, *, clock: Clock, actor: str, policy: p.Policy | None = None
) -> wp.Task:
    """Add an ad-hoc task to an open report's plan, after the tasks it depends on; owned by the named
    workgroup, else assigned by skill, region and load like a planned task."""
    with db.begin() as conn:
        current = tickets.get_for_update(conn, ticket_id)
        if current.status not in WATCHED_STATUSES:
            raise Conflict(f"report '{ticket_id}' is {current.status.value}: its work plan is closed")
        if new.workgroup:
            _check_workgroup(policy, new.workgroup)
        if new.skill and policy is not None and new.skill not in {k.id for k in policy.skills}:
            raise InvalidInput(f"the policy has no skill '{new.skill}'", field="skill")
        plan = tasks.for_ticket(conn, ticket_id)
        now = clock.now()
        chosen = wp.Assignment(new.workgroup, f"named by {actor}" if new.workgroup else "unowned")
        if policy is not None and not new.workgroup:
            chosen = wp.assign(policy, None, new.skill, _region(current), partial(tasks.load, conn))
        task = wp.ad_hoc(
            plan,
            ticket_id,
            new.name,
            new.mandatory,
            new.duration,
            depends_on=new.depends_on,
            skill=new.skill,
            workgroup=chosen.workgroup,
            assignee=new.assignee,
            finish=_finish(policy) if policy is not None else _wall_clock,
            now=now,
        )
        tasks.add_many(conn, [task])
        why = _planned_text(wp.Planned(task, chosen.reason))
        history.append(conn, HistoryEntry(ticket_id, now, actor, etom.COORDINATE, "taskPlanned", reason=why))
        return task


def _check_workgroup(policy: p.Policy | None, workgroup: str) -> None:
    if policy is not None and workgroup not in {w.id for w in policy.workgroups}:
        raise InvalidInput(f"the policy has no workgroup '{workgroup}'", field="workgroup")


def _settle(
    conn: Connection, plan: dict[str, wp.Task], changed: wp.Task, actor: str, now: datetime
) -> dict[str, wp.Task]:
    """Write the changed task and what follows from it: successors released (`ready`), forecasts pushed
    out behind it, and the audit trail (task change, readiness, plan complete)."""
    after = {**plan, changed.id: changed}
    released = wp.release(after)
    after.update({t.id: t for t in released})
    after.update({t.id: t for t in wp.reschedule(after)})
    tasks.save_many(conn, [(t, plan[t.id]) for t in after.values() if t != plan[t.id]])
    before = plan[changed.id]
    action, why = _action(before, changed)
    entries = [HistoryEntry(changed.ticket_id, now, actor, etom.COORDINATE, action, reason=why)]
    entries += [
        HistoryEntry(
            t.ticket_id, now, actor, etom.COORDINATE, "taskReady", reason=_label(t, "predecessors done")
        )
        for t in released
    ]
    if wp.is_complete(after.values()) and not wp.is_complete(plan.values()):
        done = sum(t.state is wp.TaskState.DONE for t in after.values())
        entries.append(
            HistoryEntry(
                changed.ticket_id,
                now,
                actor,
                etom.COORDINATE,
                "workPlanComplete",
                reason=f"{done} of {len(after)} tasks done",
            )
        )
    history.append_many(conn, entries)
    return after


def _action(before: wp.Task, after: wp.Task) -> tuple[str, str]:
    """The audit action and reason for one task update."""
    if after.state is not before.state:
        action = {
            wp.TaskState.IN_PROGRESS: "taskStarted",
            wp.TaskState.DONE: "taskDone",
            wp.TaskState.CANCELLED: "taskCancelled",
        }[after.state]
        return action, _label(after, after.reason or after.state.value)
    if (after.assignee, after.workgroup) != (before.assignee, before.workgroup):
        return "taskAssigned", _label(
            after, f"workgroup {after.workgroup or '-'}, assignee {after.assignee or '-'}"
        )
    if after.eta != before.eta:
        return "taskUpdated", _label(after, f"ETA {after.eta.isoformat() if after.eta else '-'}")
    return "taskUpdated", _label(after, "note added")


def _roll_up(
    conn: Connection,
    current: TroubleTicket,
    plan: dict[str, wp.Task],
    after: dict[str, wp.Task],
    changed: wp.Task,
    wanted: wp.TaskChange,
    actor: str,
    now: datetime,
    policy: p.Policy | None,
) -> None:
    """Monitor Resolution Update: what a task update changes on the report, written through the report's
    change rules (version, status history, events to the outbox, audit trail)."""
    changes: dict[str, Any] = {}
    if wanted.notes:
        marked = [f"[task {changed.id} {changed.name}] {text.strip()}" for text in wanted.notes]
        changes["note"] = [*current.note, *(Note(text=text, author=actor) for text in marked)]
    if changed.started is not None and current.status is Status.ACKNOWLEDGED:  # started or done at once
        changes["status"] = Status.IN_PROGRESS
        changes["status_change_reason"] = f"task {changed.id} '{changed.name}' started"
    eta = wp.expected_resolution(after.values())
    if "eta" in wanted.given and eta is not None and eta != current.expected_resolution_date:
        changes["expected_resolution_date"] = eta  # an engineer restated an ETA: the report's follows
    if changes:
        updated = _change_report(conn, current, changes, actor, now, policy)
        _told(conn, current, updated, policy, now)


def _change_report(
    conn: Connection,
    current: TroubleTicket,
    changes: dict[str, Any],
    actor: str,
    now: datetime,
    policy: p.Policy | None,
) -> TroubleTicket:
    """The report change path of `reports.change_report`, inside this transaction (the row is locked)."""
    updated, events = change_ticket(current, changes, now=now)
    if not events:
        return current
    updated, clock_moved = track.follow(current, updated, policy, now)
    doc = tickets.save(conn, updated, previous=current)
    if doc is None:
        raise Conflict(f"ticket '{current.id}' was changed concurrently; try again")
    history.append_many(conn, history.of_change(updated.id, events, actor, now))
    if clock_moved and policy is not None:
        track.clock_moved(conn, updated, policy, actor, now)
    outbox.add(conn, events, doc, now)
    return updated
