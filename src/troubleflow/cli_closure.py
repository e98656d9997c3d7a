"""`troubleflow ticket close|confirm|improve|metrics`: Close Customer Problem Report (1.3.7.4) from the
command line; the same use cases as the API's closure actions (docs/closure.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from troubleflow.cli_edge import Callback, Context, add_commands
from troubleflow.clock import SystemClock
from troubleflow.domain.closure import Answer
from troubleflow.processes import close


def register(group: click.Group, errors: Callable[[Callback], Callback]) -> None:
    """Add the Close commands to `group` (the `ticket` command), each behind the CLI edge's error mapping."""
    add_commands(group, errors, ticket_close, ticket_confirm, ticket_improve, ticket_metrics)


def _closed_line(t: Any) -> str:
    closure = t.closure
    how = f", {closure.method}" if closure is not None and closure.method else ""
    reopens = f", reopened {closure.reopen_count}x" if closure is not None and closure.reopen_count else ""
    return f"{t.id} is now {t.status.value}{how}{reopens} (version {t.version})"


@click.command("close")
@click.argument("ticket_id")
@click.option("--root-cause", help="the root cause (rootCause), if not set yet")
@click.option("--resolution", help="the resolution (resolution), if not set yet")
@click.option("--reason", help="statusChangeReason of the close")
@click.option("--actor", default="cli")
@click.pass_obj
def ticket_close(
    obj: Context,
    ticket_id: str,
    root_cause: str | None,
    resolution: str | None,
    reason: str | None,
    actor: str,
) -> None:
    """Close cleared report TICKET_ID as an agent (validated against the policy's close rules)."""
    t = close.close_report(
        obj.db,
        ticket_id,
        clock=SystemClock(),
        actor=actor,
        policy=obj.policy(),
        root_cause=root_cause,
        resolution=resolution,
        reason=reason,
    )
    click.echo(_closed_line(t))


@click.command("confirm")
@click.argument("ticket_id")
@click.option(
    "--fixed/--not-fixed", required=True, help="the customer's answer: fixed closes, not fixed reopens"
)
@click.option("--score", type=click.IntRange(1, 5), help="satisfaction score 1..5")
@click.option("--comment")
@click.option("--actor", default="customer")
@click.pass_obj
def ticket_confirm(
    obj: Context, ticket_id: str, fixed: bool, score: int | None, comment: str | None, actor: str
) -> None:
    """Record the customer's answer on cleared report TICKET_ID (Contact Customer, 1.3.7.4.1)."""
    answer = Answer(fixed, score, comment)
    t = close.confirm(obj.db, ticket_id, answer, clock=SystemClock(), actor=actor, policy=obj.policy())
    click.echo(_closed_line(t))


@click.command("improve")
@click.argument("ticket_id")
@click.argument("text")
@click.option("--actor", default="cli")
@click.pass_obj
def ticket_improve(obj: Context, ticket_id: str, text: str, actor: str) -> None:
    """Record an improvement opportunity TEXT on report TICKET_ID (1.3.7.4.5)."""
    item = close.record_improvement(obj.db, ticket_id, text, clock=SystemClock(), actor=actor)
    click.echo(f"{ticket_id} improvement {item.id} recorded by {item.author}: {item.text}")


@click.command("metrics")
@click.pass_obj
def ticket_metrics(obj: Context) -> None:
    """Restoration figures: MTTR over cleared reports (cancelled ones excluded), reopen rate, satisfaction."""
    from troubleflow.api.closure import render_metrics

    figures = render_metrics(close.restoration_metrics(obj.db))
    figures.pop("@type")
    click.echo(json.dumps(figures, indent=2))
