"""`troubleflow inventory` (import, list, show the customer inventory) and `troubleflow outage` (declare a
major outage, list its children). Registered on the main command by `cli.py`; import that, not this."""

from __future__ import annotations

import click

from troubleflow.cli import Context, _echo_json, _errors
from troubleflow.clock import SystemClock
from troubleflow.domain.inventory import KINDS, plural

_KIND = click.Choice(KINDS)


def register(group: click.Group, _errors: object) -> None:
    """Add `inventory` and `outage` to the main command (their commands carry the error mapping)."""
    group.add_command(inventory)
    group.add_command(outage)
    from troubleflow.cli_mass_outage import extend  # raise, update, restore, show (docs/mass-outage.md)

    extend(outage)


@click.group()
def inventory() -> None:
    """The customer inventory read at intake (customers, products, services, partners)."""


@inventory.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--kind", type=_KIND, help="the kind in a JSON array or CSV file (default: from the file name)")
@click.pass_obj
@_errors
def inventory_import(obj: Context, files: tuple[str, ...], kind: str | None) -> None:
    """Import FILES (JSON or CSV, docs/inventory.md) in one transaction: records are inserted or, with an
    id already known, overwritten; any invalid record refuses the whole import."""
    from troubleflow import inventory_files
    from troubleflow.processes.inventory import import_inventory

    records = [r for path in files for r in inventory_files.read(path, kind)]
    counts = import_inventory(obj.db, records)
    click.echo("imported " + ", ".join(plural(counts[k], k) for k in KINDS))


@inventory.command("list")
@click.argument("kind", type=_KIND)
@click.option("--offset", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1, max=1000))
@click.pass_obj
@_errors
def inventory_list(obj: Context, kind: str, offset: int, limit: int) -> None:
    """List the records of KIND in id order."""
    from troubleflow.processes.inventory import list_records

    records, total = list_records(obj.db, kind, offset, limit)
    for r in records:
        owner = getattr(r, "customer_id", None) or getattr(r, "product_id", None) or ""
        click.echo(f"{r.id:<24} {r.name[:48]:<48} {owner}")
    click.echo(f"({len(records)} of {total})")


@inventory.command("show")
@click.argument("kind", type=_KIND)
@click.argument("record_id")
@click.pass_obj
@_errors
def inventory_show(obj: Context, kind: str, record_id: str) -> None:
    """Show one record as the read-only API renders it (TMF629/637/638/632 subset)."""
    from troubleflow.api.inventory import RENDERERS
    from troubleflow.domain.inventory import Product
    from troubleflow.processes.inventory import get_record, services_of

    record = get_record(obj.db, kind, record_id)
    services = services_of(obj.db, [record]) if isinstance(record, Product) else []
    _echo_json(RENDERERS[kind](record, "", {record.id: services}))


@click.group()
def outage() -> None:
    """Major outages (Check Customer Problem Outage, 1.3.7.5.3): masters and their children."""


@outage.command("declare")
@click.argument("ticket_id")
@click.option("--actor", default="cli")
@click.pass_obj
@_errors
def outage_declare(obj: Context, ticket_id: str, actor: str) -> None:
    """Declare the open report TICKET_ID a major outage covering the services, products and service
    specifications in its relatedEntity; reports created from now on that touch them become its children."""
    from troubleflow.domain.outage import scope_of
    from troubleflow.processes.intake import declare_outage

    master = declare_outage(obj.db, ticket_id, clock=SystemClock(), actor=actor)
    covered = ", ".join(f"{kind} {entity}" for kind, entity in scope_of(master))
    click.echo(f"{master.id} is a major outage covering {covered} (version {master.version})")


@outage.command("children")
@click.argument("ticket_id")
@click.pass_obj
@_errors
def outage_children(obj: Context, ticket_id: str) -> None:
    """List the reports linked to the major outage TICKET_ID, oldest first."""
    from troubleflow.processes.intake import children

    linked = children(obj.db, ticket_id)
    for child in linked:
        click.echo(child)
    click.echo(f"({plural(len(linked), 'child report')})")
