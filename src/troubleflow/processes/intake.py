"""Create Customer Problem Report (1.3.7.5) beyond generating the report: Obtain Customer Problem
Configuration (1.3.7.5.2) from the customer inventory and Check Customer Problem Outage (1.3.7.5.3),
which links a new report to the open major outage (master) covering what it touches. The first two
functions run inside `create_report`'s transaction; `declare_outage` is a use case of its own."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from troubleflow.clock import Clock
from troubleflow.domain import etom, inventory, outage
from troubleflow.domain import policy as p
from troubleflow.domain.events import EventKind, TicketEvent
from troubleflow.domain.intake import Intake
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import Conflict
from troubleflow.processes import outage_follow
from troubleflow.storage import history, outages, outbox, tickets
from troubleflow.storage import inventory as store
from troubleflow.storage.db import Database
from troubleflow.storage.history import HistoryEntry

SLA_CLASS = "slaClass"  # the Track & Manage request (domain.tracking.REQUESTED) the inventory may fill
CHILD_COUNT = "majorOutageChildCount"  # the changed attribute named in the master's change event


def obtain_configuration(
    conn: Connection, ticket: TroubleTicket, policy: p.Policy | None, actor: str, now: datetime
) -> TroubleTicket:
    """Snapshot the configuration the report names (customer, products, services, owning partner, region,
    SLA class). No match is not an error: the trail says so. The inventory's SLA class is requested for
    Track & Manage when the client asked for none."""
    refs = inventory.references_of(ticket)
    master = outage.requested_master(ticket.extensions)
    extensions = {k: v for k, v in ticket.extensions.items() if k != outage.MASTER}
    intake = Intake(major_outage=master) if master else None
    if not refs:
        return replace(ticket, extensions=extensions, intake=intake)
    config = store.resolve(conn, refs)
    found = config.customer is not None or bool(config.products or config.services)
    reason = inventory.describe(config)
    sla = inventory.sla_class_of(config)
    if sla and policy is not None and SLA_CLASS not in extensions:
        if sla in {c.id for c in policy.sla_classes}:
            extensions[SLA_CLASS] = sla
            reason += " (requested for Track & Manage)"
        else:
            reason += f" (not in policy {policy.version}: the policy default applies)"
    if found:
        intake = replace(intake or Intake(), snapshot=inventory.snapshot(config))
    action = "configurationObtained" if found else "noInventoryMatch"
    history.append(
        conn, HistoryEntry(ticket.id, now, actor, etom.OBTAIN_CONFIGURATION, action, reason=reason)
    )
    return replace(ticket, extensions=extensions, intake=intake)


def check_outage(conn: Connection, ticket: TroubleTicket, actor: str, now: datetime) -> TroubleTicket:
    """A new master starts covering what it names; any other report touching what an open master covers
    becomes its child (troubleTicketRelationship isChildOf), and the master counts it."""
    if outage.is_master(ticket):
        keys = outage.scope_of(ticket)
        outages.cover(conn, ticket.id, keys)
        _log(conn, ticket.id, now, actor, "outageDeclared", "covers " + _keys(keys))
        return ticket
    refs = inventory.references_of(ticket)
    named = [*(("product", i) for i in refs.products), *(("service", i) for i in refs.services)]
    match = outages.open_master_for(conn, outage.touched_by(ticket, named))
    if match is None:
        return ticket
    master_id, key = match
    master = tickets.get_for_update(conn, master_id)
    counted = outage.count_child(master, now)
    doc = tickets.save(conn, counted, previous=master)
    if doc is None:  # the row is locked (PostgreSQL) or the only writer (SQLite): cannot happen
        raise Conflict(f"major outage '{master_id}' changed concurrently; try again")
    outages.add_child(conn, master_id, ticket.id, now)
    outage_follow.child_linked(conn, master_id, ticket, now)  # a mass outage's sweep skips this customer
    outbox.add(conn, [TicketEvent(EventKind.ATTRIBUTES_CHANGED, master_id, fields=(CHILD_COUNT,))], doc, now)
    count = counted.intake.child_count if counted.intake else 0
    _log(conn, ticket.id, now, actor, "linkedToMaster", f"child of major outage {master_id} ({_keys([key])})")
    _log(conn, master_id, now, actor, "childAdded", f"child {ticket.id} ({_keys([key])}); {count} linked")
    return outage.link_child(ticket, master)


def declare_outage(db: Database, ticket_id: str, *, clock: Clock, actor: str) -> TroubleTicket:
    """Declare an open report a major outage (master) covering the services, products and service
    specifications it names; reports created from now on that touch them become its children."""
    with db.begin() as conn:
        current = tickets.get_for_update(conn, ticket_id)
        now = clock.now()
        updated = outage.declared(current, now)
        keys = outage.scope_of(updated)
        doc = tickets.save(conn, updated, previous=current)
        if doc is None:
            raise Conflict(f"ticket '{ticket_id}' was changed concurrently; try again")
        outages.cover(conn, ticket_id, keys)
        _log(conn, ticket_id, now, actor, "outageDeclared", "covers " + _keys(keys))
        changed = TicketEvent(EventKind.ATTRIBUTES_CHANGED, ticket_id, fields=(outage.MASTER, CHILD_COUNT))
        outbox.add(conn, [changed], doc, now)
    return updated


def children(db: Database, master_id: str) -> list[str]:
    """The reports linked to a master, oldest first."""
    with db.read() as conn:
        tickets.get_doc(conn, master_id)  # NotFound for an unknown report
        return outages.children_of(conn, master_id)


def _keys(keys: list[outage.Key]) -> str:
    return ", ".join(f"{kind} {entity}" for kind, entity in keys)


def _log(conn: Connection, ticket_id: str, now: datetime, actor: str, action: str, reason: str) -> None:
    history.append(conn, HistoryEntry(ticket_id, now, actor, etom.CHECK_OUTAGE, action, reason=reason))
