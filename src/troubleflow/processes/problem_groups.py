"""TMF656 task resources `problemGroup` and `problemUngroup`: put child service problems under a parent
(the child names it in `parentProblem`, the parent lists the child in `underlyingProblem`) or take them
out again, all problems changed in one transaction with their events, and the task kept as posted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from troubleflow.clock import Clock
from troubleflow.domain import service_problem as sp
from troubleflow.domain.ids import new_id
from troubleflow.errors import Conflict, InvalidInput
from troubleflow.processes.delegation import problem_href, write_change
from troubleflow.storage import service_problems
from troubleflow.storage.db import Database

GROUP, UNGROUP = "problemGroup", "problemUngroup"


def group(db: Database, parent_id: str, child_ids: list[str], *, clock: Clock, actor: str) -> dict[str, Any]:
    """problemGroup: the children go under the parent. A child already under another parent, or a parent
    that is itself a child of one of them, is a conflict (409); unknown problems are bad input (400)."""
    return _task(db, GROUP, parent_id, child_ids, clock=clock, actor=actor)


def ungroup(
    db: Database, parent_id: str, child_ids: list[str], *, clock: Clock, actor: str
) -> dict[str, Any]:
    """problemUngroup: the children leave the parent; a child not under it is a conflict (409)."""
    return _task(db, UNGROUP, parent_id, child_ids, clock=clock, actor=actor)


def get_task(db: Database, kind: str, task_id: str) -> dict[str, Any]:
    with db.read() as conn:
        return service_problems.get_task(conn, kind, task_id)


def list_tasks(db: Database, kind: str) -> list[dict[str, Any]]:
    with db.read() as conn:
        return service_problems.tasks(conn, kind)


def _task(
    db: Database, kind: str, parent_id: str, child_ids: list[str], *, clock: Clock, actor: str
) -> dict[str, Any]:
    children = list(dict.fromkeys(child_ids))
    if not children:
        raise InvalidInput("childProblem needs at least one service problem", field="childProblem")
    if parent_id in children:
        raise InvalidInput("a service problem cannot be its own child", field="childProblem")
    with db.begin() as conn:
        wanted = [parent_id, *children]
        found = {p.id: p for p in service_problems.get_many(conn, wanted, for_update=True)}
        missing = [i for i in wanted if i not in found]
        if missing:
            where = "parentProblem" if parent_id in missing else "childProblem"
            raise InvalidInput(f"no service problem with id '{missing[0]}'", field=where)
        now = clock.now()
        parent = found[parent_id]
        changed = (
            _grouped(parent, [found[c] for c in children])
            if kind == GROUP
            else _ungrouped(parent, [found[c] for c in children])
        )
        for current, values in changed:
            updated, events = sp.change_problem(current, values, now=now)
            write_change(conn, current, updated, events, actor, now)
        doc = _record(kind, parent, [found[c] for c in children], now)
        service_problems.add_task(conn, doc["id"], kind, now, doc)
        return doc


def _grouped(
    parent: sp.ServiceProblem, children: list[sp.ServiceProblem]
) -> list[tuple[sp.ServiceProblem, dict[str, Any]]]:
    for child in children:
        under = {str(r.get("id")) for r in child.parent_problem}
        if under - {parent.id}:
            raise Conflict(f"service problem '{child.id}' is already grouped under '{sorted(under)[0]}'")
        if child.id in {r.get("id") for r in parent.parent_problem}:
            raise Conflict(f"service problem '{parent.id}' is a child of '{child.id}'")
    known = {r.get("id") for r in parent.underlying_problem}
    added = [_ref(c) for c in children if c.id not in known]
    changes = [(c, {"parent_problem": [_ref(parent)]}) for c in children]
    return [(parent, {"underlying_problem": [*parent.underlying_problem, *added]}), *changes]


def _ungrouped(
    parent: sp.ServiceProblem, children: list[sp.ServiceProblem]
) -> list[tuple[sp.ServiceProblem, dict[str, Any]]]:
    for child in children:
        if parent.id not in {r.get("id") for r in child.parent_problem}:
            raise Conflict(f"service problem '{child.id}' is not grouped under '{parent.id}'")
    leaving = {c.id for c in children}
    kept = [r for r in parent.underlying_problem if r.get("id") not in leaving]
    changes = [
        (c, {"parent_problem": [r for r in c.parent_problem if r.get("id") != parent.id]}) for c in children
    ]
    return [(parent, {"underlying_problem": kept}), *changes]


def _ref(problem: sp.ServiceProblem) -> dict[str, Any]:
    return sp.ref(problem.id, problem_href(problem.id), problem.name)


def _record(
    kind: str, parent: sp.ServiceProblem, children: list[sp.ServiceProblem], now: datetime
) -> dict[str, Any]:
    """The task as kept (neutral shape; the API renders it per version). It is done at once."""
    return {
        "id": new_id(),
        "kind": kind,
        "parentProblem": _ref(parent),
        "childProblem": [_ref(c) for c in children],
        "state": "done",
        "creationDate": now.isoformat(),
    }
