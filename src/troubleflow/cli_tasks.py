"""`troubleflow task …`: the work plan of a report from the command line (Coordinate Customer Problem,
1.3.7.3.1); the same use cases as the API's task sub-resource."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import click

from troubleflow.cli_edge import Callback, Context, add_commands
from troubleflow.clock import SystemClock
from troubleflow.domain import work_plan as wp
from troubleflow.processes import work_plan


def register(main: click.Group, errors: Callable[[Callback], Callback]) -> None:
    """Add `task` to the main command, each subcommand behind the CLI edge's one error mapping."""
    add_commands(main, errors, task)


@click.group("task")
def task() -> None:
    """Tasks of a report's work plan: list, start, finish, update, assign."""


def _line(t: wp.Task) -> str:
    after = f" after {','.join(t.depends_on)}" if t.depends_on else ""
    eta = t.end.isoformat(timespec="minutes") if t.end else "-"
    kind = "mandatory" if t.mandatory else "optional"
    owner = f"{t.workgroup or '-'}/{t.assignee or '-'}"
    return f"{t.id:>3} {t.state.value:<10} {kind:<9} {owner:<28} eta {eta}  {t.name}{after}"


def _update(obj: Context, ticket_id: str, task_id: str, wanted: wp.TaskChange, actor: str) -> None:
    t = work_plan.update_task(
        obj.db, ticket_id, task_id, wanted, clock=SystemClock(), actor=actor, policy=obj.policy()
    )
    click.echo(_line(t))


def _eta(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date-time", param_hint="--eta") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@task.command("list")
@click.argument("ticket_id")
@click.pass_obj
def task_list(obj: Context, ticket_id: str) -> None:
    """List the tasks of report TICKET_ID in plan order."""
    for t in work_plan.list_tasks(obj.db, ticket_id):
        click.echo(_line(t))


@task.command("start")
@click.argument("ticket_id")
@click.argument("task_id")
@click.option("--note")
@click.option("--actor", default="cli")
@click.pass_obj
def task_start(obj: Context, ticket_id: str, task_id: str, note: str | None, actor: str) -> None:
    """Start a task (its predecessors must be done)."""
    notes = (note,) if note else ()
    change = wp.TaskChange(state=wp.TaskState.IN_PROGRESS, notes=notes, given=frozenset({"state", "notes"}))
    _update(obj, ticket_id, task_id, change, actor)


@task.command("done")
@click.argument("ticket_id")
@click.argument("task_id")
@click.option("--note")
@click.option("--actor", default="cli")
@click.pass_obj
def task_done(obj: Context, ticket_id: str, task_id: str, note: str | None, actor: str) -> None:
    """Finish a task; its successors become ready."""
    notes = (note,) if note else ()
    change = wp.TaskChange(state=wp.TaskState.DONE, notes=notes, given=frozenset({"state", "notes"}))
    _update(obj, ticket_id, task_id, change, actor)


@task.command("update")
@click.argument("ticket_id")
@click.argument("task_id")
@click.option("--note", help="a progress note (rolled into the report's notes)")
@click.option("--eta", help="expected completion, ISO 8601 (no zone means UTC)")
@click.option("--actor", default="cli")
@click.pass_obj
def task_update(
    obj: Context, ticket_id: str, task_id: str, note: str | None, eta: str | None, actor: str
) -> None:
    """Add a note and/or an ETA to a task (Monitor Resolution Update)."""
    given = frozenset({"notes"} | ({"eta"} if eta else set()))
    change = wp.TaskChange(eta=_eta(eta), notes=(note,) if note else (), given=given)
    _update(obj, ticket_id, task_id, change, actor)


@task.command("assign")
@click.argument("ticket_id")
@click.argument("task_id")
@click.argument("assignee")
@click.option("--workgroup", help="move the task to another workgroup of the policy")
@click.option("--actor", default="cli")
@click.pass_obj
def task_assign(
    obj: Context, ticket_id: str, task_id: str, assignee: str, workgroup: str | None, actor: str
) -> None:
    """Assign a task to ASSIGNEE (and optionally another workgroup)."""
    given = frozenset({"assignee"} | ({"workgroup"} if workgroup else set()))
    _update(
        obj, ticket_id, task_id, wp.TaskChange(assignee=assignee, workgroup=workgroup, given=given), actor
    )
