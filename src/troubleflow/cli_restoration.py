"""`troubleflow restoration …`: Correct & Recover Customer Problem (1.3.7.6) from the command line; the same
use cases as the API's restoration resources (docs/restoration.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from troubleflow.cli_edge import Callback, Context, add_commands
from troubleflow.clock import SystemClock
from troubleflow.domain import restoration as rs
from troubleflow.processes import restoration_actions, restoration_items, restoration_steps


def register(main: click.Group, errors: Callable[[Callback], Callback]) -> None:
    """Add `restoration` to the main command, each subcommand behind the CLI edge's one error mapping."""
    add_commands(main, errors, restoration)


@click.group("restoration")
def restoration() -> None:
    """Restoration of a report: actions and outcomes, feasibility, validation, review, requests."""


def _record_line(r: rs.Record) -> str:
    return f"{r.id:>3} {rs.PROCESS_OF[r.kind]:<9} {r.kind.value:<19} {r.outcome:<20} {r.description}"


def _item_line(i: rs.Item) -> str:
    what = " ".join(x for x in (i.target_process, i.action, i.product_id) if x)
    return f"{i.kind.value} {i.id} {i.state.value:<10} report {i.ticket_id} {what}  {i.description}".rstrip()


@restoration.command("record")
@click.argument("ticket_id")
@click.option("--outcome", required=True, help="restored | restoredByWorkaround | restorationFailed")
@click.option("--description", required=True, help="what was done, or why the restoration failed")
@click.option("--guidance", help="customer education: the guidance given (root cause: usage)")
@click.option("--workaround", help="the workaround applied (restoredByWorkaround)")
@click.option("--known-error", type=int, help="link this known error (restoredByWorkaround)")
@click.option("--change-request", help="the change wanted for the permanent fix (restoredByWorkaround)")
@click.option("--actor", default="cli")
@click.pass_obj
def record(obj: Context, /, ticket_id: str, actor: str, **given: Any) -> None:
    """Record a restoration action with exactly one outcome on report TICKET_ID (1.3.7.6.2)."""
    values = {
        "outcome": given["outcome"],
        "description": given["description"],
        "resolution_type": rs.ResolutionType.CUSTOMER_EDUCATION.value if given["guidance"] else None,
        "guidance": given["guidance"],
        "workaround": given["workaround"],
        "known_error_id": given["known_error"],
        "change_request": given["change_request"],
    }
    done = restoration_actions.record_action(
        obj.db, ticket_id, values, clock=SystemClock(), actor=actor, policy=obj.policy()
    )
    click.echo(_record_line(done.record))
    for item in done.items:
        click.echo(_item_line(item))
    click.echo(f"report {ticket_id} is {done.ticket.status.value}")


@restoration.command("list")
@click.argument("ticket_id")
@click.pass_obj
def trail(obj: Context, ticket_id: str) -> None:
    """The restoration trail of report TICKET_ID, then the requests it sent."""
    for r in restoration_steps.list_records(obj.db, ticket_id):
        click.echo(_record_line(r))
    for kind in rs.ItemKind:
        for i in restoration_items.items_of_report(obj.db, ticket_id, kind):
            click.echo(_item_line(i))


@restoration.command("feasibility")
@click.argument("ticket_id")
@click.option("--feasible/--not-feasible", required=True)
@click.option("--reason", required=True)
@click.option("--actor", default="cli")
@click.pass_obj
def feasibility(obj: Context, ticket_id: str, feasible: bool, reason: str, actor: str) -> None:
    """Decide whether restoring report TICKET_ID is feasible (1.3.7.6.3)."""
    values = {"feasible": feasible, "reason": reason}
    done = restoration_steps.decide_feasibility(
        obj.db, ticket_id, values, clock=SystemClock(), actor=actor, policy=obj.policy()
    )
    click.echo(_record_line(done.record))


@restoration.command("validate")
@click.argument("ticket_id")
@click.option("--passed/--failed", required=True)
@click.option("--method", type=click.Choice(["test", "customerConfirmation"]), default="test")
@click.option("--description", required=True)
@click.option("--actor", default="cli")
@click.pass_obj
def validate(obj: Context, ticket_id: str, passed: bool, method: str, description: str, actor: str) -> None:
    """Validate the latest successful restoration of report TICKET_ID (1.3.7.6.5)."""
    values = {"passed": passed, "method": method, "description": description}
    done = restoration_steps.validate_solution(
        obj.db, ticket_id, values, clock=SystemClock(), actor=actor, policy=obj.policy()
    )
    click.echo(_record_line(done.record))


@restoration.command("review")
@click.argument("ticket_id")
@click.option("--description", required=True, help="what happened and why")
@click.option("--lessons", help="lessons learned")
@click.option("--actor", default="cli")
@click.pass_obj
def review(obj: Context, ticket_id: str, description: str, lessons: str | None, actor: str) -> None:
    """Record the review of major problem TICKET_ID (1.3.7.6.7)."""
    values = {"description": description, "lessonsLearned": lessons}
    done = restoration_steps.review_major_problem(
        obj.db, ticket_id, values, clock=SystemClock(), actor=actor, policy=obj.policy()
    )
    click.echo(_record_line(done.record))


@restoration.command("order")
@click.argument("ticket_id")
@click.option("--action", required=True, type=click.Choice([a.value for a in rs.ProductAction]))
@click.option("--description", required=True)
@click.option("--product", help="the product instance (default: the report's affected product)")
@click.option("--actor", default="cli")
@click.pass_obj
def order(
    obj: Context, ticket_id: str, action: str, description: str, product: str | None, actor: str
) -> None:
    """Ask order handling to withdraw, upgrade or renew the product of report TICKET_ID; the report waits."""
    values = {"action": action, "description": description, "product_id": product}
    item = restoration_items.request_product_order(
        obj.db, ticket_id, values, clock=SystemClock(), actor=actor, policy=obj.policy()
    )
    click.echo(_item_line(item))


@restoration.command("request")
@click.argument("ticket_id")
@click.option("--target-process", required=True, help="the eTOM id of the CRM process, e.g. 1.3.5.4")
@click.option("--description", required=True)
@click.option("--actor", default="cli")
@click.pass_obj
def request(obj: Context, ticket_id: str, target_process: str, description: str, actor: str) -> None:
    """Request activities of another CRM process for report TICKET_ID."""
    values = {"target_process": target_process, "description": description}
    item = restoration_items.request_process(
        obj.db, ticket_id, values, clock=SystemClock(), actor=actor, policy=obj.policy()
    )
    click.echo(_item_line(item))


@restoration.command("move")
@click.argument("kind", type=click.Choice([k.value for k in rs.ItemKind]))
@click.argument("item_id", type=int)
@click.argument("state", type=click.Choice([s.value for s in rs.ItemState]))
@click.option("--reason")
@click.option("--actor", default="cli")
@click.pass_obj
def move(obj: Context, kind: str, item_id: int, state: str, reason: str | None, actor: str) -> None:
    """Move a change request, product order request or process request to STATE (e.g. completed)."""
    item = restoration_items.move_item(
        obj.db,
        rs.ItemKind(kind),
        item_id,
        {"state": state, "reason": reason},
        clock=SystemClock(),
        actor=actor,
        policy=obj.policy(),
    )
    click.echo(_item_line(item))


@restoration.command("items")
@click.argument("kind", type=click.Choice([k.value for k in rs.ItemKind]))
@click.option("--state", type=click.Choice([s.value for s in rs.ItemState]))
@click.option("--limit", type=click.IntRange(1, 1000), default=100)
@click.pass_obj
def items(obj: Context, kind: str, state: str | None, limit: int) -> None:
    """List change requests, product order requests or process requests (e.g. the open ones)."""
    wanted = rs.ItemState(state) if state else None
    found, total = restoration_items.find_items(obj.db, rs.ItemKind(kind), wanted, limit=limit)
    for i in found:
        click.echo(_item_line(i))
    click.echo(f"{len(found)} of {total}")
