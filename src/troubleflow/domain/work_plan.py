"""The work plan of a customer problem report (Coordinate Customer Problem, 1.3.7.3.1): tasks with an owner
workgroup, dependencies and due times, the rules for starting and finishing them in sequence, assignment
by skill, region and load, and the roll-up of task progress into the report (the flow's ITIL candidate
*Monitor Resolution Update*, which has no eTOM identifier of its own). Pure: no storage, no web.

Task states: `waiting` (a predecessor is open) → `ready` → `inProgress` → `done`; any open task may end
`cancelled`. A predecessor is settled when it is `done` or `cancelled` (a cancelled optional step no
longer blocks what follows it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from troubleflow.domain import policy as p
from troubleflow.errors import Conflict, InvalidInput


class TaskState(StrEnum):
    WAITING = "waiting"
    READY = "ready"
    IN_PROGRESS = "inProgress"
    DONE = "done"
    CANCELLED = "cancelled"


# Bounds that keep forecasts computable (and absurd input out): an ETA within ten years, an effort of a year.
MAX_AHEAD = timedelta(days=3650)
MAX_EFFORT = timedelta(days=365)
OPEN_STATES = frozenset({TaskState.WAITING, TaskState.READY, TaskState.IN_PROGRESS})
SETTLED_STATES = frozenset({TaskState.DONE, TaskState.CANCELLED})


@dataclass(frozen=True, slots=True)
class TaskNote:
    text: str
    author: str
    date: datetime


@dataclass(frozen=True, slots=True)
class Task:
    """One step of a report's work plan. `id` is its number within the report ("1", "2", …)."""

    ticket_id: str
    id: str
    name: str
    state: TaskState
    mandatory: bool
    duration: timedelta  # expected effort, in the owning workgroup's working time
    template: str | None = None  # the policy task template it came from; None for an ad-hoc task
    skill: str | None = None
    workgroup: str | None = None
    assignee: str | None = None
    depends_on: tuple[str, ...] = ()
    due: datetime | None = None  # the planned finish (baseline), fixed when the task is planned
    eta: datetime | None = None  # the current forecast of its finish, moved by task updates
    started: datetime | None = None
    finished: datetime | None = None
    reason: str | None = None  # why it was cancelled
    notes: tuple[TaskNote, ...] = ()
    version: int = 1
    created: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def end(self) -> datetime | None:
        """When it finished, or is expected to."""
        return self.finished if self.state is TaskState.DONE else self.eta


@dataclass(frozen=True, slots=True)
class Assignment:
    workgroup: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Planned:
    """A task to create, with the words for the audit trail."""

    task: Task
    assignment: str


@dataclass(frozen=True, slots=True)
class TaskChange:
    """What a task update asks for (absent = unchanged)."""

    state: TaskState | None = None
    assignee: str | None = None
    workgroup: str | None = None
    eta: datetime | None = None
    notes: tuple[str, ...] = ()  # appended, never edited
    reason: str | None = None
    given: frozenset[str] = field(default_factory=frozenset)  # which of the above were sent


Finish = Callable[[str | None, datetime, timedelta], datetime]  # (workgroup, start, effort) -> finish
Load = Callable[[tuple[str, ...]], Mapping[str, int]]  # workgroup ids -> their open tasks


def parse_state(value: Any) -> TaskState:
    try:
        return TaskState(value)
    except ValueError:
        allowed = ", ".join(s.value for s in TaskState)
        raise InvalidInput(f"'{value}' is not a task state; use one of: {allowed}", field="state") from None


def region_of(extensions: Mapping[str, Any], entities: Iterable[tuple[str | None, str]]) -> str | None:
    """The report's region: the `region` extension attribute, else a related entity in role `region`
    (its id). Customer inventory may fill either; without one, assignment ignores regions."""
    value = extensions.get("region")
    if isinstance(value, str) and value.strip():
        return value.strip()
    return next((entity_id for role, entity_id in entities if (role or "").lower() == "region"), None)


def assign(
    policy: p.Policy,
    workgroup: str | None,
    skill: str | None,
    region: str | None,
    load: Load,
    fallback: str | None = None,
) -> Assignment:
    """The owner workgroup of a task: the one the template names; else, among the workgroups offering the
    skill in the report's region (every region when none serves it or the region is unknown), the one
    with the fewest open tasks; ties go to the lower tier, then to policy order (deterministic)."""
    if workgroup is not None:
        return Assignment(workgroup, f"workgroup {workgroup} named by the plan")
    if skill is None:
        return Assignment(
            fallback, f"no skill asked; diagnosis suggests {fallback}" if fallback else "unowned"
        )
    eligible, where = p.workgroups_with_skill(policy, skill, region), f" in region {region}"
    if region is None:
        where = " (region unknown)"
    elif not eligible:
        eligible, where = p.workgroups_with_skill(policy, skill), f" (none serves region {region})"
    if not eligible:
        return Assignment(fallback, f"no workgroup offers skill {skill}")
    if len(eligible) == 1:
        return Assignment(eligible[0].id, f"skill {skill}{where}; the only workgroup offering it")
    counts = load(tuple(w.id for w in eligible))  # counted only when there is a choice to make
    order = {w.id: i for i, w in enumerate(policy.workgroups)}
    chosen = min(eligible, key=lambda w: (counts.get(w.id, 0), w.tier, order[w.id]))
    loads = ", ".join(f"{w.id} {counts.get(w.id, 0)}" for w in eligible)
    return Assignment(chosen.id, f"skill {skill}{where}; fewest open tasks ({loads})")


def _topological(templates: Sequence[p.TaskTemplate]) -> list[p.TaskTemplate]:
    """Templates with every predecessor first (the policy loader already refused cycles)."""
    done: dict[str, p.TaskTemplate] = {}
    pending = list(templates)
    while pending:
        progressed = [t for t in pending if all(d in done for d in t.depends_on)]
        if not progressed:
            raise InvalidInput("the work plan template has a cycle or an unknown dependency")
        for t in progressed:
            done[t.id] = t
        pending = [t for t in pending if t.id not in done]
    return list(done.values())


def plan(
    policy: p.Policy,
    ticket_id: str,
    category: str,
    *,
    region: str | None,
    load: Load,
    fallback: str | None,
    finish: Finish,
    now: datetime,
) -> list[Planned]:
    """The work plan of a new report from its category's template (policy `categories[].tasks`):
    owners assigned, dependencies kept, the tasks without predecessors `ready`. Each task's due time is
    its earliest finish: the latest due time of its predecessors (or now) plus its expected effort in
    its workgroup's working time; the forecast (`eta`) starts equal to it."""
    placed: dict[str, int] = {}  # tasks of this plan already given to each workgroup

    def counted(groups: tuple[str, ...]) -> Mapping[str, int]:
        stored = load(groups)
        return {g: stored.get(g, 0) + placed.get(g, 0) for g in groups}

    ids: dict[str, str] = {}
    by_template: dict[str, Task] = {}
    out: list[Planned] = []
    for number, template in enumerate(_topological(p.tasks_for(policy, category)), start=1):
        ids[template.id] = str(number)
        chosen = assign(policy, template.workgroup, template.skill, region, counted, fallback)
        if chosen.workgroup is not None:
            placed[chosen.workgroup] = placed.get(chosen.workgroup, 0) + 1
        starts = max((by_template[d].due or now for d in template.depends_on), default=now)
        due = finish(chosen.workgroup, starts, template.expected_duration)
        task = Task(
            ticket_id=ticket_id,
            id=ids[template.id],
            name=template.name,
            state=TaskState.WAITING if template.depends_on else TaskState.READY,
            mandatory=template.mandatory,
            duration=template.expected_duration,
            template=template.id,
            skill=template.skill,
            workgroup=chosen.workgroup,
            depends_on=tuple(ids[d] for d in template.depends_on),
            due=due,
            eta=due,
            created=now,
        )
        by_template[template.id] = task
        out.append(Planned(task, chosen.reason))
    return out


def ad_hoc(
    plan_: Mapping[str, Task],
    ticket_id: str,
    name: str,
    mandatory: bool,
    duration: timedelta,
    *,
    depends_on: Sequence[str] = (),
    skill: str | None = None,
    workgroup: str | None = None,
    assignee: str | None = None,
    finish: Finish,
    now: datetime,
) -> Task:
    """A task an engineer adds to a report's plan: numbered after the others, `waiting` until the tasks it
    depends on are settled, due its effort after the latest of their ends (or now)."""
    unknown = [d for d in depends_on if d not in plan_]
    if unknown:
        raise InvalidInput(
            f"'dependsOn' names no task of this report: {', '.join(unknown)}", field="dependsOn"
        )
    if not name.strip():
        raise InvalidInput("a task needs a 'name'", field="name")
    if not timedelta(0) < duration <= MAX_EFFORT:
        raise InvalidInput("'expectedDuration' must be positive and at most a year", field="expectedDuration")
    task = Task(
        ticket_id=ticket_id,
        id=str(max((int(i) for i in plan_), default=0) + 1),
        name=name.strip(),
        state=TaskState.READY,
        mandatory=mandatory,
        duration=duration,
        skill=skill,
        workgroup=workgroup,
        assignee=assignee,
        depends_on=tuple(dict.fromkeys(depends_on)),
        created=now,
    )
    ends = [e for e in (plan_[d].end for d in task.depends_on) if e is not None]
    due = finish(workgroup, max([now, *ends]), duration)
    state = TaskState.WAITING if blocking(task, plan_) else TaskState.READY
    return replace(task, state=state, due=due, eta=due)


def blocking(task: Task, plan_: Mapping[str, Task]) -> list[Task]:
    """The predecessors of `task` not yet settled (done or cancelled)."""
    return [plan_[d] for d in task.depends_on if d in plan_ and plan_[d].state not in SETTLED_STATES]


def _names(tasks: Iterable[Task]) -> str:
    return ", ".join(f"{t.id} '{t.name}' ({t.state.value})" for t in tasks)


def change(task: Task, plan_: Mapping[str, Task], wanted: TaskChange, actor: str, now: datetime) -> Task:
    """Apply a task update: a new state along the task lifecycle (start only once every predecessor is
    settled; cancel only an optional task, with a reason), an assignee, a workgroup, an ETA, a note."""
    if not task.is_open and wanted.given - {"notes"}:
        raise Conflict(f"task {task.id} is {task.state.value}: only a note may still be added")
    updated = task
    if "assignee" in wanted.given:
        updated = replace(updated, assignee=wanted.assignee or None)
    if "workgroup" in wanted.given:
        updated = replace(updated, workgroup=wanted.workgroup or None)
    if "eta" in wanted.given:
        if wanted.eta is not None and not now - MAX_AHEAD <= wanted.eta <= now + MAX_AHEAD:
            raise InvalidInput("'expectedCompletionDate' must lie within ten years of now", field="eta")
        updated = replace(updated, eta=wanted.eta)
    for text in wanted.notes:
        if not text.strip():
            raise InvalidInput("a task note needs a non-empty text", field="note")
        updated = replace(updated, notes=(*updated.notes, TaskNote(text.strip(), actor, now)))
    if wanted.state is not None and wanted.state is not task.state:
        updated = _move(updated, plan_, wanted.state, wanted.reason, now)
    return updated if updated == task else replace(updated, version=task.version + 1)


def _move(
    task: Task, plan_: Mapping[str, Task], target: TaskState, reason: str | None, now: datetime
) -> Task:
    if target in (TaskState.IN_PROGRESS, TaskState.DONE):
        waiting_on = blocking(task, plan_)
        if waiting_on:
            verb = "start" if target is TaskState.IN_PROGRESS else "finish"
            raise Conflict(
                f"task {task.id} '{task.name}' cannot {verb} before its predecessors are done: "
                f"{_names(waiting_on)}"
            )
        started = task.started or now
        if target is TaskState.IN_PROGRESS:
            return replace(task, state=target, started=started)
        return replace(task, state=target, started=started, finished=now, eta=None)
    if target is TaskState.CANCELLED:
        if task.mandatory:
            raise Conflict(f"task {task.id} '{task.name}' is mandatory: it is cancelled only with its report")
        if not reason or not reason.strip():
            raise InvalidInput("cancelling a task needs a reason in 'stateChangeReason'", field="reason")
        return replace(task, state=target, reason=reason, finished=now)
    raise InvalidInput(
        f"a task cannot be moved to '{target.value}' by hand: the plan sets waiting and ready", field="state"
    )


def release(plan_: Mapping[str, Task]) -> list[Task]:
    """Waiting tasks whose predecessors are now all settled become `ready` (returned changed)."""
    return [
        replace(t, state=TaskState.READY, version=t.version + 1)
        for t in plan_.values()
        if t.state is TaskState.WAITING and not blocking(t, plan_)
    ]


def reschedule(plan_: Mapping[str, Task]) -> list[Task]:
    """Push the forecasts of waiting tasks out behind their predecessors' (returned changed): a waiting
    task cannot finish before the last of its predecessors ends plus its own effort (wall-clock)."""
    current = dict(plan_)
    changed: dict[str, Task] = {}
    for t in sorted(current.values(), key=lambda x: int(x.id)):
        if t.state is not TaskState.WAITING:
            continue
        ends = [e for e in (current[d].end for d in t.depends_on if d in current) if e is not None]
        if not ends:
            continue
        eta = max(ends) + t.duration
        if eta != t.eta:
            current[t.id] = changed[t.id] = replace(t, eta=eta, version=t.version + 1)
    return list(changed.values())


def expected_resolution(plan_: Iterable[Task]) -> datetime | None:
    """The roll-up rule for the report's ETA: the end of the critical path, i.e. the latest end (finish or
    forecast) among the mandatory tasks that are not cancelled; None without mandatory tasks."""
    ends = [t.end for t in plan_ if t.mandatory and t.state is not TaskState.CANCELLED]
    known = [e for e in ends if e is not None]
    return max(known) if known else None


def open_mandatory(plan_: Iterable[Task]) -> list[Task]:
    return [t for t in plan_ if t.mandatory and t.is_open]


def check_clearable(plan_: Iterable[Task]) -> None:
    """A report cannot be cleared (TMF `resolved`) while a mandatory task of its plan is open (etom C1)."""
    still_open = open_mandatory(plan_)
    if still_open:
        raise Conflict(
            f"the report cannot be cleared while mandatory tasks are open: {_names(still_open)}",
            field="status",
        )


def cancel_open(plan_: Iterable[Task], reason: str, now: datetime) -> list[Task]:
    """Cancel Customer Problem (1.3.7.3.2) cascades: every open task ends `cancelled` with the reason."""
    return [
        replace(t, state=TaskState.CANCELLED, reason=reason, finished=now, version=t.version + 1)
        for t in plan_
        if t.is_open
    ]


def is_complete(plan_: Iterable[Task]) -> bool:
    tasks = list(plan_)
    return bool(tasks) and not any(t.is_open for t in tasks)
