"""What the v4 and v5 representations share: the interface, date format, event names, validation."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from troubleflow.domain.closure import AUTO_CLOSED, Closure
from troubleflow.domain.events import EventKind
from troubleflow.domain.intake import Intake
from troubleflow.domain.known_error import KnownErrorLink
from troubleflow.domain.status import parse_status
from troubleflow.domain.ticket import Note, Ref, TroubleTicket
from troubleflow.domain.tracking import Tracking
from troubleflow.errors import InvalidInput
from troubleflow.policy_schema import iso_duration
from troubleflow.storage.hubs import Subscription
from troubleflow.storage.outbox import OutboxEvent

EVENT_TYPES: dict[str, str] = {
    EventKind.CREATED: "TroubleTicketCreateEvent",
    EventKind.ATTRIBUTES_CHANGED: "TroubleTicketAttributeValueChangeEvent",
    EventKind.STATUS_CHANGED: "TroubleTicketStatusChangeEvent",
    EventKind.RESOLVED: "TroubleTicketResolvedEvent",
    EventKind.INFORMATION_REQUIRED: "TroubleTicketInformationRequiredEvent",
    EventKind.DELETED: "TroubleTicketDeleteEvent",
}
EVENT_TITLES: dict[str, str] = {
    EventKind.CREATED: "Trouble ticket created",
    EventKind.ATTRIBUTES_CHANGED: "Trouble ticket attributes changed",
    EventKind.STATUS_CHANGED: "Trouble ticket status changed",
    EventKind.RESOLVED: "Trouble ticket resolved",
    EventKind.INFORMATION_REQUIRED: "Trouble ticket needs information",
    EventKind.DELETED: "Trouble ticket deleted",
}
# Attributes the server owns in both versions (TMF621 "Patch rules"); each version adds its history name.
SERVER_OWNED = frozenset(
    {
        "id",
        "href",
        "creationDate",
        "lastUpdate",
        "statusChangeDate",
        "@type",
        "@baseType",
        "@schemaLocation",
        "jeopardy",
        "escalationLevel",
        "escalationWorkgroup",
        "forecastBreach",
        "restorationCommitment",
        "slaClock",
        "diagnosis",
        "configurationSnapshot",
        "majorOutageChildCount",
        "knownError",
        "customerConfirmation",
        "satisfaction",
        "reopenCount",
        "closureMethod",
        "improvementOpportunity",
    }
)
# Track & Manage attributes a client may ask for on create (docs/extensions.md); afterwards they are
# the process's to change, so a PATCH of them is refused like any server-owned attribute.
REQUESTABLE = frozenset({"slaClass", "impact", "urgency", "category", "majorOutage"})
# Domain attribute name → TMF wire name, for fieldPath and for messages.
WIRE_NAMES: dict[str, str] = {
    "type_name": "@type",
    "base_type": "@baseType",
    "schema_location": "@schemaLocation",
}


class Representation(Protocol):
    version: str
    identity_keys: frozenset[str]
    server_owned: frozenset[str]
    create_model: type[BaseModel]
    update_model: type[BaseModel]
    resource_model: type[BaseModel]
    hub_input_model: type[BaseModel]
    hub_model: type[BaseModel]

    def render(self, ticket: TroubleTicket, href: str) -> dict[str, Any]: ...
    def parse(self, body: dict[str, Any]) -> dict[str, Any]: ...
    def domain_path(self, wire: tuple[str, ...]) -> tuple[str, ...]: ...
    def render_hub(self, sub: Subscription, href: str) -> dict[str, Any]: ...
    def envelope(self, event: OutboxEvent, ticket: TroubleTicket, href: str) -> dict[str, Any]: ...


def ticket_href(base_url: str, version: str, ticket_id: str) -> str:
    """`{apiRoot}/troubleTicket/{id}` (TMF630 URL layout); an empty `base_url` gives a root-relative href."""
    return f"{base_url}/tmf-api/troubleTicket/{version}/troubleTicket/{ticket_id}"


def known_error_href(base_url: str, ke_id: int) -> str:
    """A known error in troubleflow's own extension API (docs/known-errors.md)."""
    return f"{base_url}/tmf-api/troubleflow/v1/knownError/{ke_id}"


def hub_href(base_url: str, version: str, sub_id: str) -> str:
    return f"{base_url}/tmf-api/troubleTicket/{version}/hub/{sub_id}"


def fmt(value: datetime) -> str:
    """RFC 3339 UTC with milliseconds, as in the TMF examples: 2024-05-31T07:34:45.968Z."""
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def wire_name(domain_name: str) -> str:
    if domain_name in WIRE_NAMES:
        return WIRE_NAMES[domain_name]
    head, *rest = domain_name.split("_")
    return head + "".join(p.capitalize() for p in rest)


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def validate(model: type[BaseModel], body: Any) -> Any:
    """Validate a wire body; a failure becomes InvalidInput naming the first offending attribute."""
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        msg = "is mandatory" if first["type"] == "missing" else first["msg"].lower()
        raise InvalidInput(f"'{where}' {msg}", field=where) from None


def put(out: dict[str, Any], key: str, value: Any) -> None:
    """Omit absent optional attributes instead of emitting null (tmf-apis.md §9.8)."""
    if value is None or value == [] or value == {}:
        return
    out[key] = fmt(value) if isinstance(value, datetime) else value


def model_extras(model: BaseModel) -> dict[str, Any]:
    """Unknown attributes plus @baseType/@schemaLocation: kept verbatim on the part."""
    extra = dict(model.model_extra or {})
    for attr, key in (("base_type", "@baseType"), ("schema_location", "@schemaLocation")):
        value = getattr(model, attr, None)
        if value is not None:
            extra[key] = value
    return extra


def note_from(model: Any) -> Note:
    return Note(
        id=model.id,
        text=model.text,
        author=model.author,
        date=model.date,
        type_name=model.type_,
        extra=model_extras(model),
    )


def render_note(note: Note, default_type: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    put(out, "@type", note.type_name or default_type)
    put(out, "id", note.id)
    put(out, "author", note.author)
    put(out, "date", note.date)
    put(out, "text", note.text)
    out.update(note.extra)
    return out


def render_ref(ref: Ref, *, role_key: str | None = "role") -> dict[str, Any]:
    out: dict[str, Any] = {}
    put(out, "id", ref.id)
    put(out, "href", ref.href)
    put(out, "name", ref.name)
    if role_key:
        put(out, role_key, ref.role)
    put(out, "@referredType", ref.referred_type)
    for key, value in ref.extra.items():
        out.setdefault(key, value)
    return out


def opaque(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def common_fields(m: Any) -> dict[str, Any]:
    """Domain values for the attributes both versions spell the same way."""
    values: dict[str, Any] = {
        "name": m.name,
        "description": m.description,
        "severity": m.severity,
        "ticket_type": m.ticket_type,
        "priority": m.priority,
        "status_change_reason": m.status_change_reason,
        "requested_resolution_date": m.requested_resolution_date,
        "expected_resolution_date": m.expected_resolution_date,
        "resolution_date": m.resolution_date,
        "note": [note_from(n) for n in m.note or []],
        "attachment": [opaque(a) for a in m.attachment or []],
        "extensions": {k: v for k, v in (m.model_extra or {}).items() if k not in SERVER_OWNED},
    }
    if m.status is not None:
        values["status"] = parse_status(m.status)
    for attr, wire_attr in (
        ("type_name", "type_"),
        ("base_type", "base_type"),
        ("schema_location", "schema_location"),
    ):
        if getattr(m, wire_attr) is not None:
            values[attr] = getattr(m, wire_attr)
    return values


def render_common(t: TroubleTicket, href: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": t.id, "href": href, "@type": t.type_name}
    put(out, "@baseType", t.base_type)
    put(out, "@schemaLocation", t.schema_location)
    put(out, "name", t.name)
    out["description"] = t.description
    out["severity"] = t.severity
    out["ticketType"] = t.ticket_type
    put(out, "priority", t.priority)
    out["status"] = t.status.value
    put(out, "statusChangeDate", t.status_change_date)
    put(out, "statusChangeReason", t.status_change_reason)
    put(out, "creationDate", t.creation_date)
    put(out, "lastUpdate", t.last_update)
    put(out, "requestedResolutionDate", t.requested_resolution_date)
    put(out, "expectedResolutionDate", t.expected_resolution_date)
    put(out, "resolutionDate", t.resolution_date)
    if t.jeopardy is not None:  # troubleflow extension (TMF630 extension attribute), server-owned
        out["jeopardy"] = {"threshold": t.jeopardy.threshold, "since": fmt(t.jeopardy.since)}
    if t.tracking is not None:
        out.update(render_tracking(t.tracking))
        put(out, "knownError", render_known_error_link(t.tracking.known_error, href))
    if t.intake is not None:
        out.update(render_intake(t.intake))
    if t.closure is not None:
        out.update(render_closure(t.closure))
    return out


def render_closure(c: Closure) -> dict[str, Any]:
    """Close Customer Problem Report (1.3.7.4) as TMF630 extension attributes (docs/closure.md)."""
    out: dict[str, Any] = {"reopenCount": c.reopen_count}
    answer = c.satisfaction
    asked = c.survey_requested
    if asked is not None and (answer is None or answer.answered <= asked):
        state = "noResponse" if c.method == AUTO_CLOSED else "requested"
        out["customerConfirmation"] = {"state": state, "requestedDate": fmt(asked)}
    elif answer is not None:
        out["customerConfirmation"] = {"state": "confirmed" if answer.fixed else "notFixed"}
    if answer is not None:
        satisfaction: dict[str, Any] = {"fixed": answer.fixed, "answeredDate": fmt(answer.answered)}
        put(satisfaction, "score", answer.score)
        put(satisfaction, "comment", answer.comment)
        out["satisfaction"] = satisfaction
    put(out, "closureMethod", c.method)
    improvements = [
        {"id": i.id, "text": i.text, "author": i.author, "date": fmt(i.date)} for i in c.improvements
    ]
    put(out, "improvementOpportunity", improvements)
    return out


def render_intake(intake: Intake) -> dict[str, Any]:
    """Create Customer Problem Report (1.3.7.5.2/.3) as TMF630 extension attributes (docs/extensions.md)."""
    out: dict[str, Any] = {}
    put(out, "configurationSnapshot", intake.snapshot)
    if intake.major_outage:
        out |= {"majorOutage": True, "majorOutageChildCount": intake.child_count}
    return out


def render_known_error_link(link: KnownErrorLink | None, ticket_href: str) -> dict[str, Any] | None:
    """Check Known Error: the known error linked to the report, as offered (a snapshot; its href gives
    the record as it is now). Server-owned TMF630 extension attribute (docs/extensions.md)."""
    if link is None:
        return None
    out: dict[str, Any] = {
        "id": str(link.id),
        "href": known_error_href(ticket_href.partition("/tmf-api/")[0], link.id),
        "title": link.title,
        "workaround": link.workaround,
        "permanentFixStatus": link.permanent_fix_status,
        "linkedDate": fmt(link.linked),
        "@referredType": "KnownError",
    }
    put(out, "score", link.score)
    if link.source:
        out["source"] = True  # the known error was recorded from this report
    return out


def render_tracking(tr: Tracking) -> dict[str, Any]:
    """Track & Manage Customer Problem (1.3.7.3) as TMF630 extension attributes (docs/extensions.md)."""
    stopped = bool(tr.stops) and tr.stops[-1].end is None
    diagnosis: dict[str, Any] = {"priority": tr.priority, "rules": list(tr.rules)}
    put(diagnosis, "workgroup", tr.workgroup)
    put(diagnosis, "falseReport", tr.false_report)
    put(diagnosis, "firstContactResolution", tr.first_contact_resolution)
    out: dict[str, Any] = {
        "slaClass": tr.sla_class,
        "impact": tr.impact,
        "urgency": tr.urgency,
        "category": tr.category,
        "escalationLevel": tr.escalation_level,
    }
    put(out, "restorationCommitment", tr.commitment)  # absent while the clock stands still
    put(out, "escalationWorkgroup", tr.escalation_workgroup)  # functional escalation (docs/escalation.md)
    if tr.forecast_breach is not None:  # a delegate's ETA past the commitment (1.3.7.3.4)
        fb = tr.forecast_breach
        out["forecastBreach"] = {"source": fb.source, "eta": fmt(fb.eta), "since": fmt(fb.since)}
    return out | {
        "slaClock": {
            "state": "stopped" if stopped else "running",
            "started": fmt(tr.started),
            "target": iso_duration(tr.target),
            "policyVersion": tr.policy_version,
            "stops": [
                {"status": x.status, "start": fmt(x.start)} | ({"end": fmt(x.end)} if x.end else {})
                for x in tr.stops
            ],
        },
        "diagnosis": diagnosis,
    }


def envelope_common(event: OutboxEvent, ticket_doc: dict[str, Any]) -> dict[str, Any]:
    event_type = EVENT_TYPES[event.kind]
    return {
        "eventId": event.event_id,
        "eventTime": fmt(event.occurred_at),
        "eventType": event_type,
        "correlationId": event.ticket_id,
        "domain": "troubleTicket",
        "title": EVENT_TITLES[event.kind],
        "description": _describe(event, ticket_doc),
        "priority": ticket_doc.get("priority") or "",
        "event": {"troubleTicket": ticket_doc},
    }


def _describe(event: OutboxEvent, ticket_doc: dict[str, Any]) -> str:
    text = f"{EVENT_TITLES[event.kind]}: {event.ticket_id}"
    if event.kind in {EventKind.STATUS_CHANGED, EventKind.RESOLVED}:
        text += f" is now {ticket_doc.get('status')}"
    if event.fields:
        text += " (" + ", ".join(wire_name(f) for f in event.fields) + ")"
    if event.reason:
        text += f"; reason: {event.reason}"
    return text
