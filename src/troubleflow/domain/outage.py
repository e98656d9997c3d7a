"""Check Customer Problem Outage (1.3.7.5.3): what an open major-outage (master) report covers, what a new
report touches, and the link that makes the new report its child (research/etom.md B4, H3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from troubleflow.domain.intake import Intake
from troubleflow.domain.status import Status
from troubleflow.domain.ticket import Ref, TroubleTicket
from troubleflow.errors import InvalidInput

MASTER = "majorOutage"  # extension attribute a client may send on create: true makes the report a master
CHILD_OF = "isChildOf"  # TMF621 troubleTicketRelationship.relationshipType ("isChild, dependent, ...")

# A master attracts children while the outage is being worked on; once cleared (resolved), closed,
# cancelled or rejected it no longer does.
OPEN_STATUSES = frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.PENDING, Status.HELD})

# relatedEntity @referredType (lower case) -> the scope kind a master covers.
_KINDS = {"service": "service", "product": "product", "servicespecification": "serviceSpecification"}

Key = tuple[str, str]  # (kind, entity id)


def is_master(ticket: TroubleTicket) -> bool:
    return ticket.intake is not None and ticket.intake.major_outage


def requested_master(extensions: dict[str, Any]) -> bool:
    """Whether a new report asks to be a master (`majorOutage: true`); anything but a boolean is refused."""
    value = extensions.get(MASTER)
    if value is not None and not isinstance(value, bool):
        raise InvalidInput(f"'{MASTER}' must be true or false", field=MASTER)
    return value is True


def scope_of(ticket: TroubleTicket) -> list[Key]:
    """What a master covers: the services, products and service specifications in its relatedEntity
    (by `@referredType`, else by a role naming them, e.g. `affectedService`)."""
    keys = [(_kind(r), r.id) for r in ticket.related_entity]
    found = [(kind, entity) for kind, entity in keys if kind]
    if not found:
        raise InvalidInput(
            "a major outage names what it covers: relatedEntity with @referredType Service, Product or "
            "ServiceSpecification",
            field="relatedEntity",
        )
    return list(dict.fromkeys(found))


def _kind(ref: Ref) -> str:
    referred = (ref.referred_type or "").lower()
    if referred:
        return _KINDS.get(referred, "")
    role = (ref.role or "").lower()
    return next((_KINDS[word] for word in ("servicespecification", "service", "product") if word in role), "")


def touched_by(ticket: TroubleTicket, named: list[Key]) -> list[Key]:
    """What a new report touches: the products, services and service specifications of its configuration
    snapshot, plus what it names directly (a reference the inventory does not know may still be covered)."""
    snap = (ticket.intake.snapshot if ticket.intake else None) or {}
    keys = list(named)
    for product in snap.get("product", []):
        keys.append(("product", product["id"]))
        keys += _service_keys(product.get("service", []))
    keys += _service_keys(snap.get("service", []))
    return list(dict.fromkeys(keys))


def _service_keys(services: list[dict[str, Any]]) -> list[Key]:
    keys: list[Key] = []
    for s in services:
        keys.append(("service", s["id"]))
        if s.get("serviceSpecification"):
            keys.append(("serviceSpecification", s["serviceSpecification"]))
    return keys


def link_child(child: TroubleTicket, master: TroubleTicket) -> TroubleTicket:
    """The new report as a child of the master (TMF621 troubleTicketRelationship, isChildOf). It inherits
    the master's expected resolution (the outage's ETA is the customer's ETA); its own restoration
    commitment stays what its SLA says."""
    ref = Ref(id=master.id, role=CHILD_OF, name=master.name, ref_type="TroubleTicketRelationship")
    return replace(
        child,
        trouble_ticket_relationship=[*child.trouble_ticket_relationship, ref],
        expected_resolution_date=master.expected_resolution_date or child.expected_resolution_date,
    )


def count_child(master: TroubleTicket, now: datetime) -> TroubleTicket:
    """The master with one child more (a new version: readers and subscribers see the count change)."""
    intake = master.intake or Intake(major_outage=True)
    counted = replace(intake, child_count=intake.child_count + 1)
    return replace(master, version=master.version + 1, last_update=now, intake=counted)


def declared(master: TroubleTicket, now: datetime) -> TroubleTicket:
    """An open report declared a master after its creation."""
    if master.status not in OPEN_STATUSES:
        raise InvalidInput(
            f"report '{master.id}' is {master.status.value}: only an open report can be a major outage",
            field="status",
        )
    if is_master(master):
        raise InvalidInput(f"report '{master.id}' is already a major outage", field=MASTER)
    intake = replace(master.intake or Intake(), major_outage=True, child_count=0)
    return replace(master, version=master.version + 1, last_update=now, intake=intake)
