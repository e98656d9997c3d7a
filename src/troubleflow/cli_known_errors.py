"""`troubleflow known-error …`: the known-error database from the command line (add, list, show, search,
from-ticket, update, retire), through the same use cases and the same JSON as the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from troubleflow.cli_edge import add_commands
from troubleflow.clock import SystemClock
from troubleflow.domain.known_error import FixStatus, KnownErrorStatus
from troubleflow.errors import NotFound
from troubleflow.processes import known_errors
from troubleflow.processes.known_errors import Record
from troubleflow.storage.known_errors import Filters

if TYPE_CHECKING:
    from troubleflow.cli import Context

_FIX = click.Choice([s.value for s in FixStatus])
_STATUS = click.Choice([s.value for s in KnownErrorStatus])


def _echo(record: Record) -> None:
    import json

    from troubleflow.api.known_errors import render

    click.echo(json.dumps(render(record, ""), indent=2, ensure_ascii=False))


def _line(record: Record) -> str:
    k = record.known_error
    return (
        f"{k.id:>6}  {k.status.value:<8} {k.permanent_fix_status.value:<10} {k.category or '-':<14} "
        f"hits={record.hits:<4} {k.title[:60]}"
    )


def _id(raw: str) -> int:
    if not raw.isdigit():
        raise NotFound(f"no known error with id '{raw}'", field="id")
    return int(raw)


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def register(group: click.Group, errors: Callable[[Any], Any]) -> None:
    """Add `known-error` to the main command, each subcommand behind the CLI edge's error mapping."""
    add_commands(group, errors, known_error)


@click.group("known-error")
def known_error() -> None:
    """Known errors (Check Known Error, 1.3.7.1.6; Create Known Record, 1.3.7.1.9)."""


@known_error.command("add")
@click.option("--title", required=True)
@click.option("--symptom", required=True, help="the symptom signature, as a customer would put it")
@click.option("--workaround", required=True)
@click.option("--category", help="policy category id (default: any category)")
@click.option("--product")
@click.option("--root-cause")
@click.option("--fix-status", type=_FIX, help="permanent-fix status (default open)")
@click.option("--change-request")
@click.pass_obj
def add(obj: Context, /, **options: Any) -> None:
    """Record a known error."""
    values = _given(
        title=options["title"],
        symptom=options["symptom"],
        workaround=options["workaround"],
        category=options["category"],
        product=options["product"],
        root_cause=options["root_cause"],
        permanent_fix_status=options["fix_status"],
        change_request=options["change_request"],
    )
    _echo(known_errors.record_known_error(obj.db, values, clock=SystemClock(), policy=obj.policy()))


@known_error.command("from-ticket")
@click.argument("ticket_id")
@click.option("--workaround", help="default: the resolution of a cleared report")
@click.option("--root-cause")
@click.option("--title", help="default: the report's name")
@click.option("--symptom", help="default: the report's description")
@click.option("--category", help="default: the report's diagnosed category")
@click.option("--product")
@click.option("--actor", default="cli")
@click.pass_obj
def from_ticket(obj: Context, /, ticket_id: str, actor: str, **options: Any) -> None:
    """Record a known error from the diagnosed report TICKET_ID and link them."""
    values = _given(**options)
    record = known_errors.record_from_report(
        obj.db, ticket_id, values, clock=SystemClock(), actor=actor, policy=obj.policy()
    )
    _echo(record)


@known_error.command("list")
@click.option("--category", multiple=True)
@click.option("--fix-status", type=_FIX, multiple=True)
@click.option("--status", type=_STATUS, multiple=True)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=0, max=1000))
@click.pass_obj
def list_(
    obj: Context, category: tuple[str, ...], fix_status: tuple[str, ...], status: tuple[str, ...], limit: int
) -> None:
    """List known errors, newest first."""
    filters = Filters(category=category, permanent_fix_status=fix_status, status=status)
    found, total = known_errors.find_known_errors(obj.db, filters, limit=limit)
    for record in found:
        click.echo(_line(record))
    click.echo(f"({len(found)} of {total})")


@known_error.command("search")
@click.argument("text")
@click.option("--all", "include_retired", is_flag=True, help="also retired known errors")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=0, max=1000))
@click.pass_obj
def search(obj: Context, text: str, include_retired: bool, limit: int) -> None:
    """Full-text search (any significant word of TEXT, stemmed), best match first."""
    filters = Filters(status=() if include_retired else (KnownErrorStatus.ACTIVE.value,))
    found, total = known_errors.find_known_errors(obj.db, filters, q=text, limit=limit)
    for record in found:
        click.echo(_line(record))
    click.echo(f"({len(found)} of {total})")


@known_error.command("show")
@click.argument("ke_id")
@click.option("--reports", is_flag=True, help="also list the reports linked to it")
@click.pass_obj
def show(obj: Context, ke_id: str, reports: bool) -> None:
    """Show one known error (API representation)."""
    _echo(known_errors.get_known_error(obj.db, _id(ke_id)))
    if reports:
        for ticket_id, at, score in known_errors.linked_reports(obj.db, _id(ke_id)):
            how = "source" if score is None else f"matched, score {score}"
            click.echo(f"{at.isoformat()} {ticket_id} ({how})")


@known_error.command("update")
@click.argument("ke_id")
@click.option("--title")
@click.option("--symptom")
@click.option("--workaround")
@click.option("--category")
@click.option("--product")
@click.option("--root-cause")
@click.option("--fix-status", type=_FIX)
@click.option("--status", type=_STATUS, help="retired: never offered again")
@click.option("--change-request")
@click.option("--if-match", type=int, help="refuse the change unless the record is at this version")
@click.pass_obj
def update(obj: Context, /, ke_id: str, if_match: int | None, **options: Any) -> None:
    """Change a known error (only the options given)."""
    values = _given(
        title=options["title"],
        symptom=options["symptom"],
        workaround=options["workaround"],
        category=options["category"],
        product=options["product"],
        root_cause=options["root_cause"],
        permanent_fix_status=options["fix_status"],
        status=options["status"],
        change_request=options["change_request"],
    )
    if not values:
        raise click.UsageError("name at least one attribute to change")
    record = known_errors.change_known_error(
        obj.db, _id(ke_id), lambda _r: values, clock=SystemClock(), if_match=if_match, policy=obj.policy()
    )
    _echo(record)


@known_error.command("retire")
@click.argument("ke_id")
@click.pass_obj
def retire(obj: Context, ke_id: str) -> None:
    """Retire a known error: kept for its linked reports, never offered again."""
    record = known_errors.retire_known_error(obj.db, _id(ke_id), clock=SystemClock())
    click.echo(f"known error {record.known_error.id} retired (version {record.known_error.version})")
