"""Mass outages raised from the network side (a TMF656 ServiceProblem naming affected services): the seam
the service-problem side calls. `declare` opens (once per cause) the master report and queues the sweep
that links or opens a child report for every affected customer; `update` moves the master's ETA or adds
a note, which reaches every child; `restore` clears the master and queues the clearing of every child.
The chunked work itself is the worker's (processes/outage_jobs.py); `progress` shows how far it got."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from troubleflow.clock import Clock
from troubleflow.domain import etom, outage
from troubleflow.domain import mass_outage as mo
from troubleflow.domain.mass_outage import Cause
from troubleflow.domain.policy import Policy
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import Note, TroubleTicket
from troubleflow.errors import Conflict, InvalidInput, TroubleflowError
from troubleflow.processes.reports import change_report, create_report
from troubleflow.storage import history, outages
from troubleflow.storage import mass_outages as store
from troubleflow.storage.db import Database
from troubleflow.storage.history import HistoryEntry

__all__ = ["Cause", "Progress", "declare", "progress", "restore", "update"]

ACTOR = "network"


@dataclass(frozen=True, slots=True)
class Progress:
    """A mass outage and how far its jobs got (children opened, linked, notified, cleared...)."""

    outage: store.Outage
    counts: dict[str, int]
    pending: dict[str, int]  # pending jobs by kind (sweep, restore, propagate)


def declare(
    db: Database,
    *,
    clock: Clock,
    policy: Policy | None,
    cause: Cause,
    services: Sequence[str],
    eta: datetime | None = None,
    actor: str = ACTOR,
) -> Progress:
    """Declare the mass outage of `cause` on `services` (service instance ids or service specification
    ids of the inventory). Idempotent per cause: a repeated declare changes nothing, one naming more
    services adds them and sweeps again. Unknown services or none: InvalidInput, nothing changes."""
    named = mo.check_request(cause, list(services))
    with db.read() as conn:
        kinds, unknown = store.service_kinds(conn, named)
        existing = store.find_outage(conn, cause.id)
    if unknown:
        raise InvalidInput(
            f"not in the inventory (service or service specification): {', '.join(unknown)}", field="service"
        )
    if existing is not None and existing.state != store.ACTIVE:
        raise Conflict(f"the mass outage caused by '{cause.id}' is {existing.state} already")
    if existing is None:
        created = create_report(
            db,
            mo.master_values(cause, kinds, eta),
            clock=clock,
            actor=actor,
            idempotency_key=f"massOutage:{cause.id}",
            fingerprint=f"massOutage:{cause.id}",
            policy=policy,
        )
        master_id = created.ticket.id
    else:
        master_id = existing.master_id
    with db.begin() as conn:
        now = clock.now()
        first = store.add_outage(conn, cause, master_id, named, now)
        found = store.get_outage(conn, cause.id, for_update=True)
        added = [n for n in named if n not in found.services]
        if first:
            _log(conn, master_id, now, actor, etom.CHECK_OUTAGE, "massOutageDeclared", _what(cause, kinds))
            store.add_job(conn, master_id, cause.id, store.SWEEP, {"kinds": kinds}, now)
        elif added and found.state == store.ACTIVE:
            every = [*found.services, *added]
            all_kinds, _ = store.service_kinds(conn, every)
            store.set_services(conn, cause.id, every)
            outages.cover(conn, master_id, [_scope(i, k) for i, k in all_kinds if i in added])
            _log(
                conn, master_id, now, actor, etom.CHECK_OUTAGE, "massOutageExtended", _what(cause, all_kinds)
            )
            store.cancel_jobs(conn, master_id, store.SWEEP, now)
            store.add_job(conn, master_id, cause.id, store.SWEEP, {"kinds": all_kinds}, now)
    return progress(db, cause.id)


def update(
    db: Database,
    *,
    clock: Clock,
    cause_id: str,
    eta: datetime | None = None,
    note: str | None = None,
    actor: str = ACTOR,
    policy: Policy | None = None,
) -> TroubleTicket:
    """A new ETA or a note from the network side, on the master; the worker passes it to every open
    child (a `propagate` job, queued by the change itself, as for any change of a master)."""
    if eta is None and not (note and note.strip()):
        raise InvalidInput("an outage update needs an ETA or a note", field="eta")
    with db.read() as conn:
        found = store.get_outage(conn, cause_id)

    def compute(current: TroubleTicket) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if eta is not None:
            changes["expected_resolution_date"] = eta
        if note and note.strip():
            changes["note"] = [*current.note, Note(text=note.strip(), author=actor)]
        return changes

    return change_report(db, found.master_id, compute, clock=clock, actor=actor, policy=policy)


def restore(
    db: Database,
    *,
    clock: Clock,
    cause_id: str,
    resolution: str,
    actor: str = ACTOR,
    policy: Policy | None = None,
) -> Progress:
    """The cause is resolved: clear the master (no new report joins it from now on) and queue the clearing
    of every child still open. Idempotent: a restored outage is returned as it is."""
    if not resolution.strip():
        raise InvalidInput("a restoration needs a resolution", field="resolution")
    with db.read() as conn:
        found = store.get_outage(conn, cause_id)
    if found.state != store.ACTIVE:
        return progress(db, cause_id)
    _clear_master(db, found, resolution.strip(), clock, actor, policy)
    with db.begin() as conn:
        now = clock.now()
        current = store.get_outage(conn, cause_id, for_update=True)
        if current.state == store.ACTIVE:
            store.set_state(conn, cause_id, store.RESTORING, resolution.strip(), now)
            store.cancel_jobs(conn, found.master_id, store.SWEEP, now)
            store.add_job(conn, found.master_id, cause_id, store.RESTORE, {}, now)
            _log(
                conn,
                found.master_id,
                now,
                actor,
                etom.REPORT_RESTORATION,
                "massOutageRestored",
                mo.restore_reason(found.cause, resolution.strip()),
            )
    return progress(db, cause_id)


def _clear_master(
    db: Database, found: store.Outage, resolution: str, clock: Clock, actor: str, policy: Policy | None
) -> None:
    """Clear the master through the report rules; one they refuse (its own work plan still open) stays
    open with the reason in its audit trail: the children are cleared all the same."""
    reason = mo.restore_reason(found.cause, resolution)

    def step(status: Status) -> Callable[[TroubleTicket], dict[str, Any]]:
        def compute(current: TroubleTicket) -> dict[str, Any]:
            if current.status not in mo.OPEN or current.status is status:
                return {}
            return {"status": status, "status_change_reason": reason}

        return compute

    try:
        for status in (Status.IN_PROGRESS, Status.RESOLVED):
            change_report(db, found.master_id, step(status), clock=clock, actor=actor, policy=policy)
    except TroubleflowError as exc:
        with db.begin() as conn:
            _log(
                conn, found.master_id, clock.now(), actor, etom.REPORT_RESTORATION, "notCleared", exc.message
            )


def progress(db: Database, cause_id: str) -> Progress:
    with db.read() as conn:
        found = store.get_outage(conn, cause_id)
        return Progress(found, store.counts(conn, cause_id), store.pending_jobs(conn, found.master_id))


def _scope(entity: str, kind: str) -> outage.Key:
    return ("service", entity) if kind == "Service" else ("serviceSpecification", entity)


def _what(cause: Cause, kinds: list[tuple[str, str]]) -> str:
    named = ", ".join(f"{'service' if k == 'Service' else 'service specification'} {i}" for i, k in kinds)
    return f"{cause.referred_type} {cause.id} affects {named}"


def _log(conn: Any, ticket_id: str, now: datetime, actor: str, process: str, action: str, why: str) -> None:
    history.append(conn, HistoryEntry(ticket_id, now, actor, process, action, reason=why))
