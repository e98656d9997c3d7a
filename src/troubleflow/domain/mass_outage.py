"""Proactive mass-outage handling (Check Customer Problem Outage 1.3.7.5.3 started from the network side):
the cause a master report is related to, the child report opened for each affected customer before they
call, and what the customer is told when it opens, when the ETA moves and when service is restored. Pure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from troubleflow.domain import outage
from troubleflow.domain.events import TicketEvent
from troubleflow.domain.status import Status, check_transition
from troubleflow.domain.ticket import Note, Ref, StatusChange, TroubleTicket, change_ticket, open_ticket
from troubleflow.errors import InvalidInput

SYSTEM = "system"  # the initiating mode of a report opened by troubleflow itself (extension attribute)
INITIATING_MODE = "initiatingMode"
CAUSED_BY = "causedBy"  # relatedEntity role naming the network-side cause (a TMF656 ServiceProblem)
AFFECTED_SERVICE = "affectedService"
AUTHOR = "troubleflow"
CHILD = "opened for a mass outage"  # the status change reason of a child opened in progress
CHANNEL = Ref(id=SYSTEM, name="troubleflow (proactive, network-initiated)")
# Reports still being worked on: a later declare links them, a restoration clears them.
OPEN = outage.OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class Cause:
    """The network-side problem behind a mass outage (TMF656 ServiceProblem by default)."""

    id: str
    href: str | None = None
    name: str | None = None
    referred_type: str = "ServiceProblem"

    def ref(self) -> Ref:
        return Ref(
            id=self.id, href=self.href, name=self.name, role=CAUSED_BY, referred_type=self.referred_type
        )


@dataclass(frozen=True, slots=True)
class Affected:
    """One affected service instance and its customer, as the inventory knows them."""

    service_id: str
    service_name: str
    customer_id: str
    customer_name: str
    email: str | None = None  # the customer's contact email, if the inventory has one


def touched_services(ticket: TroubleTicket) -> set[str]:
    """The service instances a report touches: those in its configuration snapshot and those it names."""
    keys = outage.touched_by(ticket, [("service", r.id) for r in ticket.related_entity if _names_service(r)])
    return {entity for kind, entity in keys if kind == "service"}


def _names_service(ref: Ref) -> bool:
    return (ref.referred_type or "").lower() == "service" or (
        not ref.referred_type and "service" in (ref.role or "").lower()
    )


def check_request(cause: Cause, services: list[str]) -> list[str]:
    """The named services, once each; a cause without an id or an empty list is refused."""
    if not cause.id.strip():
        raise InvalidInput("a mass outage needs the id of its cause", field="causeId")
    named = list(dict.fromkeys(s.strip() for s in services if s.strip()))
    if not named:
        raise InvalidInput("a mass outage names at least one affected service", field="service")
    return named


def master_values(cause: Cause, services: list[tuple[str, str]], eta: datetime | None) -> dict[str, Any]:
    """The create request of the master report: a major outage covering the named services (by instance
    or by service specification), related to its cause, opened by the system."""
    entities = [
        Ref(id=sid, role=AFFECTED_SERVICE, referred_type=kind) for sid, kind in services
    ]  # kind: Service | ServiceSpecification
    what = cause.name or f"{cause.referred_type} {cause.id}"
    return {
        "name": f"Major outage: {what}"[:500],
        "description": f"Service outage raised from the network side ({cause.referred_type} {cause.id}).",
        "severity": "Critical",
        "ticket_type": "incident",
        "channel": CHANNEL,
        "related_entity": [cause.ref(), *entities],
        "expected_resolution_date": eta,
        "extensions": {outage.MASTER: True, INITIATING_MODE: SYSTEM},
    }


def open_child(
    ticket_id: str, master: TroubleTicket, cause: Cause, affected: Affected, now: datetime
) -> TroubleTicket:
    """The report opened for an affected customer before they call: in progress (the network side is
    working on it), the customer as relatedParty, the service and the cause as relatedEntity, a child of
    the master with its ETA, and the note telling the customer so."""
    values = {
        "name": f"Service outage: {affected.service_name}"[:500],
        "description": f"Proactive report: {affected.service_name} is affected by a known network problem.",
        "severity": master.severity,
        "ticket_type": master.ticket_type,
        "channel": CHANNEL,
        "related_party": [
            Ref(
                id=affected.customer_id,
                name=affected.customer_name,
                role="customer",
                referred_type="Customer",
            )
        ],
        "related_entity": [
            Ref(
                id=affected.service_id,
                name=affected.service_name,
                role=AFFECTED_SERVICE,
                referred_type="Service",
            ),
            cause.ref(),
        ],
        "note": [Note(text=outage_text(master.expected_resolution_date), author=AUTHOR)],
        "extensions": {INITIATING_MODE: SYSTEM},
    }
    ticket, _ = open_ticket(values, ticket_id=ticket_id, now=now)
    # The new report is changed in place (it is nobody else's yet): copying it per step was most of the
    # cost of opening 10,000 children. The lifecycle table still rules the step.
    check_transition(ticket.status, Status.IN_PROGRESS)
    ticket.status_change.append(StatusChange(status=Status.IN_PROGRESS, change_date=now, change_reason=CHILD))
    ticket.status, ticket.status_change_reason = Status.IN_PROGRESS, CHILD
    ticket.trouble_ticket_relationship = [_child_of(master)]
    ticket.expected_resolution_date = master.expected_resolution_date
    return ticket


def _child_of(master: TroubleTicket) -> Ref:
    return Ref(id=master.id, role=outage.CHILD_OF, name=master.name, ref_type="TroubleTicketRelationship")


def link_existing(child: TroubleTicket, master: TroubleTicket, now: datetime) -> TroubleTicket:
    """An open report of an affected customer made a child of the master (a new version)."""
    linked = outage.link_child(child, master)
    note = Note(text=outage_text(master.expected_resolution_date), author=AUTHOR)
    updated, _ = change_ticket(linked, {"note": [*linked.note, note]}, now=now)
    return replace(updated, version=child.version + 1, last_update=now)


def is_child_of(ticket: TroubleTicket, master_id: str) -> bool:
    return any(r.id == master_id and r.role == outage.CHILD_OF for r in ticket.trouble_ticket_relationship)


def followed_master(
    child: TroubleTicket, master: TroubleTicket, notes: list[str], now: datetime
) -> tuple[TroubleTicket, tuple[str, ...]]:
    """A child brought in line with its master: the master's ETA and the master's new notes (prefixed so the
    customer sees where they come from). Returns the child and the changed attributes (none: unchanged)."""
    changes: dict[str, Any] = {}
    if master.expected_resolution_date and master.expected_resolution_date != child.expected_resolution_date:
        changes["expected_resolution_date"] = master.expected_resolution_date
        notes = [*notes, eta_text(master.expected_resolution_date)]
    if notes:
        changes["note"] = [*child.note, *(Note(text=t, author=AUTHOR) for t in notes)]
    if not changes:
        return child, ()
    updated, _ = change_ticket(child, changes, now=now)
    return updated, tuple(sorted(changes))


def restored(
    child: TroubleTicket, cause: Cause, resolution: str, now: datetime
) -> tuple[TroubleTicket, list[TicketEvent]] | None:
    """The child cleared (TMF resolved, through inProgress when it is not there yet) with a reason naming
    the cause, and a note telling the customer; None when it is no longer open (the customer cancelled
    it, or it was cleared or closed already): it is left alone."""
    if child.status not in OPEN:
        return None
    reason = restore_reason(cause, resolution)
    ticket, events = child, list[TicketEvent]()
    if child.status is not Status.IN_PROGRESS:
        ticket, events = change_ticket(child, {"status": Status.IN_PROGRESS}, now=now)
    note = Note(text=restored_text(resolution), author=AUTHOR)
    changes = {"status": Status.RESOLVED, "status_change_reason": reason, "note": [*ticket.note, note]}
    ticket, moved = change_ticket(ticket, changes, now=now)
    return replace(ticket, version=child.version + 1), [*events, *moved]


def restore_reason(cause: Cause, resolution: str) -> str:
    return f"restored: {cause.referred_type} {cause.id} resolved ({resolution})"


def outage_text(eta: datetime | None) -> str:
    when = f" We expect it to be restored by {eta.isoformat(timespec='minutes')}." if eta else ""
    return f"We know about a network problem affecting your service and are working on it.{when}"


def eta_text(eta: datetime) -> str:
    return f"Update: we now expect your service to be restored by {eta.isoformat(timespec='minutes')}."


def restored_text(resolution: str) -> str:
    return f"Your service has been restored ({resolution}). Sorry for the inconvenience."


def subject(kind: str) -> str:
    return {
        "outage": "We are working on a problem affecting your service",
        "update": "Update on the problem affecting your service",
        "restored": "Your service has been restored",
    }[kind]
