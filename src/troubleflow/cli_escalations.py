"""`troubleflow escalation …` and `troubleflow notification …`: the NOC's view of escalated reports, a
manual escalation, and the notifications of escalation steps (listed, replayed); the same use cases as
the API (docs/escalation.md)."""

from __future__ import annotations

from collections.abc import Callable

import click

from troubleflow.cli_edge import Callback, Context, add_commands
from troubleflow.clock import SystemClock
from troubleflow.processes import escalation
from troubleflow.storage.notifications import STATES, Notification


def register(main: click.Group, errors: Callable[[Callback], Callback]) -> None:
    """Add `escalation` and `notification`, each subcommand behind the CLI edge's one error mapping."""
    add_commands(main, errors, escalation_group, notification_group)


@click.group("escalation")
def escalation_group() -> None:
    """Escalated reports (Escalate Customer Problem, 1.3.7.3.3): list, show, raise."""


@click.group("notification")
def notification_group() -> None:
    """Notifications of escalation steps: list, replay the parked ones."""


def _notification_line(n: Notification) -> str:
    error = f"  ({n.last_error})" if n.last_error else ""
    return (
        f"{n.id:>6} {n.state:<8} {n.ticket_id:<12} L{n.level} {n.list_id:<20} {n.channel:<7} "
        f"{n.address} attempts {n.attempts}{error}"
    )


@escalation_group.command("list")
@click.option("--level", default=1, show_default=True, type=click.IntRange(min=1), help="at or above")
@click.option("--offset", default=0, type=click.IntRange(min=0))
@click.option("--limit", default=100, type=click.IntRange(1, 1000))
@click.pass_obj
def escalation_list(obj: Context, level: int, offset: int, limit: int) -> None:
    """Open reports escalated at or above LEVEL, highest level first."""
    found, total = escalation.escalated_reports(obj.db, level, offset, limit)
    for ticket, reached, at in found:
        owner = ticket.tracking.escalation_workgroup if ticket.tracking else None
        click.echo(
            f"{ticket.id:<12} L{reached} {ticket.status.value:<12} {ticket.priority or '-':<6} "
            f"{owner or '-':<18} since {at.isoformat(timespec='minutes')}  {ticket.name or ''}"
        )
    click.echo(f"{len(found)} of {total} escalated open report(s)")


@escalation_group.command("show")
@click.argument("ticket_id")
@click.pass_obj
def escalation_show(obj: Context, ticket_id: str) -> None:
    """The escalation steps of report TICKET_ID with the notifications of each."""
    ticket, steps = escalation.report_escalation(obj.db, ticket_id)
    level = ticket.tracking.escalation_level if ticket.tracking else 0
    click.echo(f"{ticket.id} {ticket.status.value} escalation level {level}")
    for told in steps:
        s = told.step
        threshold = f" at {s.threshold} %" if s.threshold else ""
        click.echo(
            f"  L{s.level} {s.cause}{threshold} role {s.role or '-'} workgroup {s.workgroup or '-'} "
            f"list {s.list_id or '-'} by {s.actor} {s.at.isoformat(timespec='minutes')}: {s.reason or ''}"
        )
        for n in told.notifications:
            click.echo("    " + _notification_line(n))


@escalation_group.command("raise")
@click.argument("ticket_id")
@click.argument("level", type=click.IntRange(min=1))
@click.option("--reason", required=True)
@click.option("--role")
@click.option("--workgroup")
@click.option("--list", "notify", help="the notification list to tell (default: the matrix's for the level)")
@click.option("--actor", default="cli")
@click.pass_obj
def escalation_raise(
    obj: Context,
    ticket_id: str,
    level: int,
    reason: str,
    role: str | None,
    workgroup: str | None,
    notify: str | None,
    actor: str,
) -> None:
    """Escalate report TICKET_ID to LEVEL by hand (only upwards) and notify the level's list."""
    told = escalation.escalate(
        obj.db, ticket_id, level, reason, clock=SystemClock(), actor=actor, policy=obj.policy(),
        role=role, workgroup=workgroup, notify=notify,
    )  # fmt: skip
    click.echo(f"{ticket_id} escalated to level {told.step.level}; {len(told.notifications)} notification(s)")


@notification_group.command("list")
@click.option("--state", type=click.Choice(STATES))
@click.option("--limit", default=100, type=click.IntRange(1, 1000))
@click.pass_obj
def notification_list(obj: Context, state: str | None, limit: int) -> None:
    """Notifications of escalation steps, oldest first."""
    found, total = escalation.list_notifications(obj.db, state, 0, limit)
    for n in found:
        click.echo(_notification_line(n))
    click.echo(f"{len(found)} of {total} notification(s)")


@notification_group.command("replay")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "replay_all", is_flag=True, help="every parked notification")
@click.pass_obj
def notification_replay(obj: Context, ids: tuple[int, ...], replay_all: bool) -> None:
    """Put parked notifications IDS (or --all) back in line for the worker."""
    if not ids and not replay_all:
        raise click.UsageError("name the notifications to replay, or --all")
    count = escalation.replay_notifications(obj.db, None if replay_all else list(ids), clock=SystemClock())
    click.echo(f"{count} notification(s) replayed")
