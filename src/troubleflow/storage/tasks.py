"""Work plan rows: the tasks of a report, read and written inside the caller's transaction, and the open
tasks per workgroup (the load that assignment balances)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from troubleflow.domain.work_plan import Task, TaskNote, TaskState
from troubleflow.errors import Conflict, NotFound
from troubleflow.storage import workload
from troubleflow.storage.codec import decode_json, encode_json
from troubleflow.storage.driver import insert_rows
from troubleflow.storage.tables import task

K = task.c


def _row(t: Task) -> dict[str, Any]:
    return {
        "ticket_id": t.ticket_id,
        "seq": int(t.id),
        "name": t.name,
        "template": t.template,
        "skill": t.skill,
        "workgroup": t.workgroup,
        "assignee": t.assignee,
        "state": t.state.value,
        "mandatory": int(t.mandatory),
        "depends_on": encode_json([int(d) for d in t.depends_on]),
        "duration_s": int(t.duration.total_seconds()),
        "due_at": t.due,
        "eta": t.eta,
        "started_at": t.started,
        "finished_at": t.finished,
        "reason": t.reason,
        "notes": encode_json(
            [{"text": n.text, "author": n.author, "date": n.date.isoformat()} for n in t.notes]
        ),
        "version": t.version,
        "created_at": t.created,
    }


def _task(r: Any) -> Task:
    return Task(
        ticket_id=r.ticket_id,
        id=str(r.seq),
        name=r.name,
        state=TaskState(r.state),
        mandatory=bool(r.mandatory),
        duration=timedelta(seconds=r.duration_s),
        template=r.template,
        skill=r.skill,
        workgroup=r.workgroup,
        assignee=r.assignee,
        depends_on=tuple(str(d) for d in decode_json(r.depends_on)),
        due=r.due_at,
        eta=r.eta,
        started=r.started_at,
        finished=r.finished_at,
        reason=r.reason,
        notes=tuple(
            TaskNote(n["text"], n["author"], datetime.fromisoformat(n["date"])) for n in decode_json(r.notes)
        ),
        version=r.version,
        created=r.created_at,
    )


def add_many(conn: Connection, tasks: Sequence[Task]) -> None:
    insert_rows(conn, task, [_row(t) for t in tasks])
    workload.record(conn, (d for t in tasks for d in workload.moved(None, t)))


def for_ticket(conn: Connection, ticket_id: str) -> dict[str, Task]:
    """The plan of a report by task id, in plan order (to change it, hold the report's row lock)."""
    rows = conn.execute(select(task).where(K.ticket_id == ticket_id).order_by(K.seq))
    return {str(r.seq): _task(r) for r in rows}


def get(plan: dict[str, Task], ticket_id: str, task_id: str) -> Task:
    if task_id not in plan:
        raise NotFound(f"report '{ticket_id}' has no task '{task_id}'", field="taskId")
    return plan[task_id]


def save_many(conn: Connection, changed: Sequence[tuple[Task, Task]]) -> None:
    """Write changed tasks (new, previous), each only if still at its previous version."""
    for new, old in changed:
        row = _row(new)
        result = conn.execute(
            update(task)
            .where(K.ticket_id == old.ticket_id, K.seq == int(old.id), K.version == old.version)
            .values({k: v for k, v in row.items() if k not in {"ticket_id", "seq"}})
        )
        if result.rowcount != 1:
            raise Conflict(f"task {old.id} of report '{old.ticket_id}' was changed concurrently")
    workload.record(conn, (d for new, old in changed for d in workload.moved(old, new)))


def load(conn: Connection, workgroups: Sequence[str]) -> dict[str, int]:
    """Open tasks of each of `workgroups`: what assignment by load compares (storage/workload.py)."""
    return workload.open_tasks(conn, workgroups)


def forget(conn: Connection, ticket_id: str) -> None:
    """Before a report is deleted (its tasks go with it, by cascade): its open tasks leave the load."""
    workload.record(conn, (d for t in for_ticket(conn, ticket_id).values() for d in workload.moved(t, None)))
