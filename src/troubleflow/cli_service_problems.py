"""`troubleflow service-problem …`: service problems (TMF656; Service Problem Management, 1.4.6) from the
command line — the same use cases as the API: list, show, create, move, estimate, raise one from a report
(Create Service Trouble Report, 1.4.6.1) or link one to it, and the audit trail."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from troubleflow.api.tmf656_representation import V4
from troubleflow.cli_edge import Callback, Context, add_commands
from troubleflow.clock import SystemClock
from troubleflow.domain import service_problem as sp
from troubleflow.processes import service_problems


def register(main: click.Group, errors: Callable[[Callback], Callback]) -> None:
    """Add `service-problem`, each subcommand behind the CLI edge's one error mapping."""
    add_commands(main, errors, service_problem)


@click.group("service-problem")
def service_problem() -> None:
    """Service problems (TMF656): list, show, create, move, eta, raise, history."""


def _line(p: sp.ServiceProblem) -> str:
    eta = p.expected_resolution_date.isoformat(timespec="minutes") if p.expected_resolution_date else "-"
    reports = ",".join(p.trouble_ticket) or "-"
    what = p.name or p.description
    return f"{p.id}  {p.status.value:<12} P{p.priority:<2} eta {eta}  reports {reports}  {what}"


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _change(obj: Context, problem_id: str, values: dict[str, Any], actor: str) -> None:
    p = service_problems.change_problem(
        obj.db, problem_id, lambda _p: values, clock=SystemClock(), actor=actor, policy=obj.policy()
    )
    click.echo(_line(p))


@service_problem.command("list")
@click.option("--status", multiple=True, help="only these statuses (repeatable)")
@click.pass_obj
def sp_list(obj: Context, status: tuple[str, ...]) -> None:
    """List service problems, oldest first."""
    for p in service_problems.list_problems(obj.db, tuple(sp.parse_status(s).value for s in status)):
        click.echo(_line(p))


@service_problem.command("show")
@click.argument("problem_id")
@click.pass_obj
def sp_show(obj: Context, problem_id: str) -> None:
    """Print a service problem as TMF656 v4 JSON."""
    click.echo(json.dumps(V4.render(service_problems.get_problem(obj.db, problem_id), ""), indent=2))


@service_problem.command("create")
@click.option("--category", required=True)
@click.option("--priority", required=True, type=click.IntRange(1, 10), help="1 (highest) .. 10")
@click.option("--description", required=True)
@click.option("--reason", required=True)
@click.option("--name")
@click.option("--originator", default="noc", show_default=True, help="the originating party's id")
@click.option("--originating-system")
@click.option("--service", "services", multiple=True, help="an affected service id (repeatable)")
@click.option("--ticket", "tickets", multiple=True, help="a report it explains (repeatable)")
@click.option("--actor", default="cli")
@click.pass_obj
def sp_create(
    obj: Context,
    category: str,
    priority: int,
    description: str,
    reason: str,
    name: str | None,
    originator: str,
    originating_system: str | None,
    services: tuple[str, ...],
    tickets: tuple[str, ...],
    actor: str,
) -> None:
    """Create a service problem (acknowledged)."""
    values: dict[str, Any] = {
        "category": category,
        "priority": priority,
        "description": description,
        "reason": reason,
        "name": name,
        "originating_system": originating_system,
        "originator_party": {"id": originator, "role": "originator", "@referredType": "Organization"},
        "affected_service": [{"id": s, "@referredType": "Service"} for s in services],
        "trouble_ticket": list(tickets),
    }
    p = service_problems.create_problem(obj.db, values, clock=SystemClock(), actor=actor, policy=obj.policy())
    click.echo(_line(p))


@service_problem.command("move")
@click.argument("problem_id")
@click.argument("status")
@click.option("--reason")
@click.option("--actor", default="cli")
@click.pass_obj
def sp_move(obj: Context, problem_id: str, status: str, reason: str | None, actor: str) -> None:
    """Move a service problem through the TMF656 lifecycle (e.g. inProgress, resolved, closed)."""
    _change(obj, problem_id, {"status": sp.parse_status(status), "status_change_reason": reason}, actor)


@service_problem.command("eta")
@click.argument("problem_id")
@click.argument("moment")
@click.option("--actor", default="cli")
@click.pass_obj
def sp_eta(obj: Context, problem_id: str, moment: str, actor: str) -> None:
    """Estimate the restoration time (1.4.6.1.3), ISO 8601; it flows into the linked reports."""
    _change(obj, problem_id, {"expected_resolution_date": _moment(moment)}, actor)


@service_problem.command("raise")
@click.argument("ticket_id")
@click.option("--link", "problem_id", help="link this existing service problem instead of raising one")
@click.option("--name")
@click.option("--priority", type=click.IntRange(1, 10))
@click.option("--actor", default="cli")
@click.pass_obj
def sp_raise(
    obj: Context, ticket_id: str, problem_id: str | None, name: str | None, priority: int | None, actor: str
) -> None:
    """Raise a service problem from report TICKET_ID (Create Service Trouble Report, 1.4.6.1), or link one."""
    given = {k: v for k, v in {"name": name, "priority": priority}.items() if v is not None}
    p, _new = service_problems.raise_for_report(
        obj.db,
        ticket_id,
        values=given or None,
        problem_id=problem_id,
        clock=SystemClock(),
        actor=actor,
        policy=obj.policy(),
    )
    click.echo(_line(p))


@service_problem.command("history")
@click.argument("problem_id")
@click.pass_obj
def sp_history(obj: Context, problem_id: str) -> None:
    """The audit trail of a service problem, each entry with its eTOM process."""
    for e in service_problems.problem_history(obj.db, problem_id):
        moved = f" {e.old_status or ''}->{e.new_status}" if e.new_status else ""
        why = f": {e.reason}" if e.reason else ""
        click.echo(
            f"{e.at.isoformat(timespec='seconds')}  {e.process_id:<9} {e.action}{moved} by {e.actor}{why}"
        )
