"""The customer problem report (TMF621 TroubleTicket): its attributes and the rules for changing them.

Attachments, characteristics and the specification reference are carried as opaque TMF documents:
the domain never reads inside them, it only stores and returns them unchanged. Unknown extension
attributes (TMF630 `@schemaLocation` extensions) live in `extensions` (ticket) and `extra` (parts).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from troubleflow.domain.closure import Closure
from troubleflow.domain.events import EventKind, TicketEvent
from troubleflow.domain.intake import Intake
from troubleflow.domain.status import INITIAL_STATUS, Status, check_transition
from troubleflow.domain.tracking import Tracking
from troubleflow.errors import InvalidInput

Json = dict[str, Any]


@dataclass(slots=True, kw_only=True)
class Note:
    id: str | None = None
    text: str
    author: str | None = None
    date: datetime | None = None
    type_name: str | None = None
    extra: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class StatusChange:
    status: Status
    change_date: datetime
    change_reason: str | None = None


@dataclass(slots=True, kw_only=True)
class Ref:
    """A reference to something outside the ticket: a party, an entity, a channel, another ticket.

    `role` is the party/entity role, or the relationship type for ticket relationships; `ref_type`
    is the v5 `@type` of the reference itself (e.g. PartyRef vs PartyRoleRef).
    """

    id: str
    role: str | None = None
    name: str | None = None
    href: str | None = None
    referred_type: str | None = None
    ref_type: str | None = None
    extra: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class ExternalIdentifier:
    id: str
    owner: str | None = None
    external_identifier_type: str | None = None
    extra: Json = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Jeopardy:
    """Monitor Customer Problem Jeopardy Status (1.3.7.3.4): the highest threshold of the committed
    restoration time passed so far (percent; 100 = breached) and since when. Server-owned."""

    threshold: int
    since: datetime


@dataclass(slots=True, kw_only=True)
class TroubleTicket:
    id: str
    version: int = 1
    type_name: str = "TroubleTicket"
    base_type: str | None = None
    schema_location: str | None = None
    name: str | None = None
    description: str
    severity: str
    ticket_type: str
    priority: str | None = None
    status: Status = INITIAL_STATUS
    status_change_date: datetime | None = None
    status_change_reason: str | None = None
    creation_date: datetime | None = None
    last_update: datetime | None = None
    requested_resolution_date: datetime | None = None
    expected_resolution_date: datetime | None = None
    resolution_date: datetime | None = None
    channel: Ref | None = None
    external_identifier: list[ExternalIdentifier] = field(default_factory=list)
    note: list[Note] = field(default_factory=list)
    attachment: list[Json] = field(default_factory=list)
    related_entity: list[Ref] = field(default_factory=list)
    related_party: list[Ref] = field(default_factory=list)
    trouble_ticket_relationship: list[Ref] = field(default_factory=list)
    trouble_ticket_characteristic: list[Json] = field(default_factory=list)
    trouble_ticket_specification: Json | None = None
    status_change: list[StatusChange] = field(default_factory=list)
    jeopardy: Jeopardy | None = None
    tracking: Tracking | None = None  # Track & Manage Customer Problem (1.3.7.3), server-owned
    intake: Intake | None = None  # configuration snapshot and major-outage role (1.3.7.5), server-owned
    closure: Closure | None = None  # Close Customer Problem Report (1.3.7.4), server-owned
    extensions: Json = field(default_factory=dict)


# The attributes of a report, and those holding lists (dotted filters fan out over them; a sort cannot).
TICKET_FIELDS = frozenset(f.name for f in fields(TroubleTicket)) - {
    "extensions",
    "tracking",
    "intake",
    "closure",
}
LIST_FIELDS = frozenset(f.name for f in fields(TroubleTicket) if str(f.type).startswith("list["))

# Attributes a client may set on create or change by PATCH (tmf-apis.md §2.1 "Patch rules");
# id, href, creationDate, lastUpdate, statusChange(History), statusChangeDate and the @-typing are
# server-owned.
CLIENT_FIELDS = frozenset(
    {
        "name",
        "description",
        "severity",
        "ticket_type",
        "priority",
        "status",
        "status_change_reason",
        "requested_resolution_date",
        "expected_resolution_date",
        "resolution_date",
        "channel",
        "external_identifier",
        "note",
        "attachment",
        "related_entity",
        "related_party",
        "trouble_ticket_relationship",
        "trouble_ticket_characteristic",
        "trouble_ticket_specification",
        "extensions",
    }
)
CREATE_ONLY_FIELDS = frozenset({"type_name", "base_type", "schema_location"})
REQUIRED_FIELDS = ("description", "severity", "ticket_type")


def open_ticket(
    values: dict[str, Any], *, ticket_id: str, now: datetime
) -> tuple[TroubleTicket, TicketEvent]:
    """Create a report in the initial status with its first status-history entry.

    A client-sent `status` is ignored: the server chooses the initial status (TMF621 create rules).
    """
    unknown = set(values) - CLIENT_FIELDS - CREATE_ONLY_FIELDS
    if unknown:
        raise InvalidInput(f"not settable on create: {', '.join(sorted(unknown))}")
    values = {k: v for k, v in values.items() if k not in {"status", "status_change_reason"}}
    for name in REQUIRED_FIELDS:
        _require_text(values.get(name), name)
    notes = _number_notes(values.pop("note", []), [], now)
    ticket = TroubleTicket(
        id=ticket_id,
        note=notes,
        creation_date=now,
        last_update=now,
        status_change_date=now,
        status_change=[StatusChange(status=INITIAL_STATUS, change_date=now)],
        **{k: v for k, v in values.items() if v is not None},
    )
    return ticket, TicketEvent(EventKind.CREATED, ticket_id, new_status=INITIAL_STATUS.value)


def change_ticket(
    ticket: TroubleTicket, values: dict[str, Any], *, now: datetime
) -> tuple[TroubleTicket, list[TicketEvent]]:
    """Apply client changes; return the new ticket and the events (none when nothing changed).

    A status change goes through the lifecycle table, stamps `statusChangeDate`, keeps the reason and
    appends to the status history; reaching `resolved` sets `resolutionDate` (TMF621 §3).
    """
    unknown = set(values) - CLIENT_FIELDS
    if unknown:
        raise InvalidInput(f"not patchable: {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    for name in REQUIRED_FIELDS:
        if name in values:
            _require_text(values[name], name)
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name in {"status", "status_change_reason"}:
            continue
        if name == "note":
            value = _number_notes(_keep_existing_notes(ticket.note, value or []), ticket.note, now)
        elif name in LIST_FIELDS:
            value = value or []
        elif name == "extensions":
            value = value or {}
        if getattr(ticket, name) != value:
            changes[name] = value
    attribute_fields = tuple(sorted(changes))
    events: list[TicketEvent] = []
    target: Status | None = values.get("status")
    if target is not None and target != ticket.status:
        check_transition(ticket.status, target)
        reason = values.get("status_change_reason")
        changes.update(
            status=target,
            status_change_date=now,
            status_change_reason=reason,
            status_change=[
                *ticket.status_change,
                StatusChange(status=target, change_date=now, change_reason=reason),
            ],
        )
        if target is Status.RESOLVED and "resolution_date" not in values:
            changes["resolution_date"] = now
        elif (
            target is Status.IN_PROGRESS
            and ticket.status is Status.RESOLVED
            and "resolution_date" not in values
        ):
            changes["resolution_date"] = None  # re-opened: no longer resolved
        events.append(
            TicketEvent(
                EventKind.STATUS_CHANGED,
                ticket.id,
                old_status=ticket.status.value,
                new_status=target.value,
                reason=reason,
            )
        )
        if target is Status.RESOLVED:
            events.append(TicketEvent(EventKind.RESOLVED, ticket.id, new_status=target.value, reason=reason))
        if target is Status.PENDING:
            events.append(
                TicketEvent(EventKind.INFORMATION_REQUIRED, ticket.id, new_status=target.value, reason=reason)
            )
    if attribute_fields:
        events.insert(0, TicketEvent(EventKind.ATTRIBUTES_CHANGED, ticket.id, fields=attribute_fields))
    if not changes:
        return ticket, []
    return replace(ticket, version=ticket.version + 1, last_update=now, **changes), events


def _require_text(value: Any, name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"'{name}' is mandatory and must be a non-empty string", field=name)


def _keep_existing_notes(existing: list[Note], given: list[Note]) -> list[Note]:
    """Notes are an append-only record of what was said: existing ones may not be removed or edited."""
    by_id = {n.id: n for n in given if n.id is not None}
    for note in existing:
        other = by_id.get(note.id or "")
        if other is None:
            raise InvalidInput(f"note '{note.id}' cannot be removed: notes are append-only", field="note")
        if (other.text, other.author, other.date) != (note.text, note.author, note.date):
            raise InvalidInput(f"note '{note.id}' cannot be edited: notes are append-only", field="note")
    return [*existing, *(n for n in given if n.id is None or n.id not in {e.id for e in existing})]


def _number_notes(notes: list[Note], existing: list[Note], now: datetime) -> list[Note]:
    """Give new notes a server id (the next free number) and a date; existing notes keep theirs."""
    used = {n.id for n in existing} | {n.id for n in notes if n.id}
    counter = len(existing)
    result = []
    for note in notes:
        if not note.text or not note.text.strip():
            raise InvalidInput("a note needs a non-empty 'text'", field="note.text")
        if note.id is None or note.date is None:
            note_id = note.id
            while note_id is None:
                counter += 1
                if str(counter) not in used:
                    note_id = str(counter)
                    used.add(note_id)
            note = replace(note, id=note_id, date=note.date or now)
        result.append(note)
    return result
