"""`troubleflow outage raise | update | restore | show`: mass outages from the network side
(docs/mass-outage.md). Added to the `outage` group of `cli_inventory.py`; the worker does the chunked
work they queue."""

from __future__ import annotations

from datetime import datetime

import click

from troubleflow.cli import Context, _echo_json, _errors
from troubleflow.clock import SystemClock
from troubleflow.errors import InvalidInput


def extend(group: click.Group) -> None:
    """Add the mass-outage commands to the `outage` group."""
    for command in (outage_raise, outage_update, outage_restore, outage_show):
        group.add_command(command)


def _eta(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"'{value}' is not an ISO 8601 date-time", field="eta") from None
    if moment.tzinfo is None:
        raise InvalidInput("the ETA needs a time zone (e.g. 2026-11-22T18:00:00Z)", field="eta")
    return moment


def _show(obj: Context, cause_id: str) -> None:
    from troubleflow.api.mass_outage import render_progress
    from troubleflow.processes.mass_outage import progress

    _echo_json(render_progress(progress(obj.db, cause_id), obj.settings.base_url.rstrip("/")))


@click.command("raise")
@click.option("--cause-id", required=True, help="the service problem (TMF656) behind the outage")
@click.option("--cause-href", default=None)
@click.option("--cause-name", default=None)
@click.option("--cause-type", default="ServiceProblem", show_default=True)
@click.option("--service", "services", multiple=True, help="affected service or service specification id")
@click.option("--eta", default=None, help="expected restoration (ISO 8601 with time zone)")
@click.option("--actor", default="cli")
@click.pass_obj
@_errors
def outage_raise(
    obj: Context,
    cause_id: str,
    cause_href: str | None,
    cause_name: str | None,
    cause_type: str,
    services: tuple[str, ...],
    eta: str | None,
    actor: str,
) -> None:
    """Declare the mass outage of a network-side cause: a master report, then (by the worker) a child
    report opened or linked for every affected customer, each told before they call."""
    from troubleflow.processes.mass_outage import Cause, declare

    cause = Cause(cause_id, cause_href, cause_name, cause_type)
    declare(
        obj.db,
        clock=SystemClock(),
        policy=obj.policy(),
        cause=cause,
        services=services,
        eta=_eta(eta),
        actor=actor,
    )
    _show(obj, cause_id)


@click.command("update")
@click.option("--cause-id", required=True)
@click.option("--eta", default=None, help="the new expected restoration (ISO 8601 with time zone)")
@click.option("--note", default=None, help="a note for every affected customer")
@click.option("--actor", default="cli")
@click.pass_obj
@_errors
def outage_update(obj: Context, cause_id: str, eta: str | None, note: str | None, actor: str) -> None:
    """Move the outage's ETA or add a note: the master changes, the worker passes it to every child."""
    from troubleflow.processes.mass_outage import update

    master = update(
        obj.db,
        clock=SystemClock(),
        cause_id=cause_id,
        eta=_eta(eta),
        note=note,
        actor=actor,
        policy=obj.policy(),
    )
    click.echo(f"{master.id} updated (version {master.version}); the worker passes it to the children")


@click.command("restore")
@click.option("--cause-id", required=True)
@click.option("--resolution", default="service restored", show_default=True)
@click.option("--actor", default="cli")
@click.pass_obj
@_errors
def outage_restore(obj: Context, cause_id: str, resolution: str, actor: str) -> None:
    """The cause is resolved: the master is cleared, the worker clears every open child and tells its
    customer."""
    from troubleflow.processes.mass_outage import restore

    restore(
        obj.db,
        clock=SystemClock(),
        cause_id=cause_id,
        resolution=resolution,
        actor=actor,
        policy=obj.policy(),
    )
    _show(obj, cause_id)


@click.command("show")
@click.option("--cause-id", required=True)
@click.pass_obj
@_errors
def outage_show(obj: Context, cause_id: str) -> None:
    """How far a mass outage got: children opened, linked, notified, cleared; jobs pending."""
    _show(obj, cause_id)
