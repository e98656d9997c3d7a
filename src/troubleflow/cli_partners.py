"""`troubleflow partner-ticket …` and `troubleflow handoff …`: submit a report to a partner, read our partner
ticket records, and the B2B hand-off outbox (listed, parked ones replayed); the same use cases as the API
(docs/partners.md)."""

from __future__ import annotations

from collections.abc import Callable

import click

from troubleflow.cli_edge import Callback, Context, add_commands
from troubleflow.clock import SystemClock
from troubleflow.domain.partner_ticket import PartnerTicket
from troubleflow.processes import handoffs, partner_tickets
from troubleflow.storage.handoffs import STATES, Handoff


def register(main: click.Group, errors: Callable[[Callback], Callback]) -> None:
    """Add `partner-ticket` and `handoff`, each subcommand behind the CLI edge's one error mapping."""
    add_commands(main, errors, partner_group, handoff_group)


@click.group("partner-ticket")
def partner_group() -> None:
    """Problems delegated to partners (S/P Problem Reporting & Management, 1.6.10): submit, list, show."""


@click.group("handoff")
def handoff_group() -> None:
    """The B2B hand-off outbox (calls to partners' APIs): list, replay the parked ones."""


def _record_line(r: PartnerTicket) -> str:
    theirs = r.partner_ticket_id or "(not yet accepted)"
    commitment = r.commitment.isoformat(timespec="minutes") if r.commitment else "-"
    cancel = f"  cancelled: {r.cancel_reason}" if r.cancel_reason else ""
    return (
        f"{r.id} report {r.ticket_id} partner {r.partner_id} ticket {theirs} "
        f"{r.partner_status or 'submitting'} restore by {commitment}{cancel}"
    )


def _handoff_line(h: Handoff) -> str:
    error = f"  ({h.last_error})" if h.last_error else ""
    return (
        f"{h.id:>6} {h.state:<8} {h.target} {h.action:<9} {h.method:<6} {h.url} "
        f"report {h.ticket_id or '-'} attempts {h.attempts}{error}"
    )


@partner_group.command("submit")
@click.argument("ticket_id")
@click.option("--partner", "partner_id", help="the partner (default: the one owning the report's product)")
@click.option("--actor", default="cli")
@click.pass_obj
def partner_submit(obj: Context, ticket_id: str, partner_id: str | None, actor: str) -> None:
    """Submit report TICKET_ID to a partner's TMF621 API (queued for the worker)."""
    record = partner_tickets.submit(
        obj.db, ticket_id, partner_id, clock=SystemClock(), actor=actor, policy=obj.policy()
    )
    click.echo(f"submitted: {_record_line(record)}")


@partner_group.command("list")
@click.option("--ticket", "ticket_id", help="the partner tickets of one report")
@click.option("--partner", "partner_id")
@click.option("--offset", default=0, type=click.IntRange(min=0))
@click.option("--limit", default=100, type=click.IntRange(1, 1000))
@click.pass_obj
def partner_list(
    obj: Context, ticket_id: str | None, partner_id: str | None, offset: int, limit: int
) -> None:
    """Our partner ticket records, oldest first."""
    if ticket_id is not None:
        found = partner_tickets.for_report(obj.db, ticket_id)
        total = len(found)
    else:
        found, total = partner_tickets.list_records(obj.db, partner_id, offset, limit)
    for r in found:
        click.echo(_record_line(r))
    click.echo(f"{len(found)} of {total} partner ticket(s)")


@partner_group.command("show")
@click.argument("record_id")
@click.pass_obj
def partner_show(obj: Context, record_id: str) -> None:
    """One partner ticket record with its hand-offs."""
    record = partner_tickets.get_record(obj.db, record_id)
    click.echo(_record_line(record))
    found, _ = handoffs.list_handoffs(obj.db, None, record.ticket_id, 0, 1000)
    for h in found:
        if h.record_id == record.id:
            click.echo("  " + _handoff_line(h))


@handoff_group.command("list")
@click.option("--state", type=click.Choice(STATES))
@click.option("--ticket", "ticket_id")
@click.option("--limit", default=100, type=click.IntRange(1, 1000))
@click.pass_obj
def handoff_list(obj: Context, state: str | None, ticket_id: str | None, limit: int) -> None:
    """B2B hand-offs, oldest first."""
    found, total = handoffs.list_handoffs(obj.db, state, ticket_id, 0, limit)
    for h in found:
        click.echo(_handoff_line(h))
    click.echo(f"{len(found)} of {total} hand-off(s)")


@handoff_group.command("replay")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "replay_all", is_flag=True, help="every parked hand-off")
@click.pass_obj
def handoff_replay(obj: Context, ids: tuple[int, ...], replay_all: bool) -> None:
    """Put parked hand-offs IDS (or --all) back in line for the worker."""
    if not ids and not replay_all:
        raise click.UsageError("name the hand-offs to replay, or --all")
    count = handoffs.replay_handoffs(obj.db, None if replay_all else list(ids), clock=SystemClock())
    click.echo(f"{count} hand-off(s) replayed")
