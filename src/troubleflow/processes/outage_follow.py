"""What the report use cases tell mass-outage handling, inside their own transactions: a master whose ETA
moved or that got a note queues a `propagate` job for its children (the gap "master ETA change not pushed
to children"), and a customer's new report linked to a mass outage's master by Check Customer Problem
Outage (1.3.7.5.3) claims its (cause, service) key, so the sweep does not open a second report for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from troubleflow.domain import mass_outage as mo
from troubleflow.domain import outage
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.storage import mass_outages as store


def master_changed(conn: Connection, previous: TroubleTicket, updated: TroubleTicket, now: datetime) -> None:
    """Queue the propagation of a master's new ETA and new notes to its children (none: nothing to do)."""
    if not outage.is_master(updated) or updated.status not in mo.OPEN:
        return
    moved = updated.expected_resolution_date != previous.expected_resolution_date
    known = {n.id for n in previous.note}
    notes = [n.text for n in updated.note if n.id not in known]
    if not (moved or notes) or not store.has_children(conn, updated.id):
        return
    found = store.find_outage(conn, "", master_id=updated.id)
    store.add_job(conn, updated.id, found.cause.id if found else None, store.PROPAGATE, {"notes": notes}, now)


def child_linked(conn: Connection, master_id: str, child: TroubleTicket, now: datetime) -> None:
    """Record a report just linked to a mass outage's master under the affected services it touches."""
    found = store.find_outage(conn, "", master_id=master_id)
    if found is None or found.state != store.ACTIVE:
        return
    kinds, _ = store.service_kinds(conn, found.services)
    affected = store.affected_among(conn, kinds, mo.touched_services(child))
    rows = [
        {
            "cause_id": found.cause.id,
            "service_id": a.service_id,
            "customer_id": a.customer_id,
            "ticket_id": child.id,
            "mode": "linked",
            "state": "open",
            "linked_at": now,
        }
        for a in affected.values()
    ]
    if rows:
        store.add_children(conn, rows, skip_conflicts=True)
