"""TMF621 v5.0.1 representation: `@type` on every object, wrapped party/entity references,
`externalIdentifier[]`, `statusChangeHistory[]`, characteristics and attachment ref-or-value."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from troubleflow.api import schemas_v5 as s
from troubleflow.api.representation import (
    REQUESTABLE,
    SERVER_OWNED,
    common_fields,
    envelope_common,
    fmt,
    model_extras,
    put,
    render_common,
    render_note,
    render_ref,
    snake,
    validate,
)
from troubleflow.domain.events import EventKind
from troubleflow.domain.ticket import TICKET_FIELDS, ExternalIdentifier, Ref, TroubleTicket
from troubleflow.errors import InvalidInput
from troubleflow.storage.hubs import Subscription
from troubleflow.storage.outbox import OutboxEvent

_TOP = {"@type": ("type_name",), "statusChangeHistory": ("status_change",)}
_SUB = {
    "@referredType": "referred_type",
    "@type": "ref_type",
    "relationshipType": "role",
    "statusChangeDate": "change_date",
    "statusChangeReason": "change_reason",
}
_OPAQUE = frozenset({"attachment", "trouble_ticket_characteristic", "trouble_ticket_specification"})
_PARTY_TYPES = frozenset({"PartyRef", "PartyRoleRef"})
_ATTACHMENT_TYPES = frozenset({"Attachment", "AttachmentRef"})


class V5:
    version: str = "v5"
    # v5 guidance keeps the identity keys in a projection (tmf-apis.md §6).
    identity_keys: frozenset[str] = frozenset({"id", "href", "@type"})
    server_owned: frozenset[str] = SERVER_OWNED | REQUESTABLE | {"statusChangeHistory"}
    create_model: type[BaseModel] = s.TroubleTicketFVO
    update_model: type[BaseModel] = s.TroubleTicketMVO
    resource_model: type[BaseModel] = s.TroubleTicket
    hub_input_model: type[BaseModel] = s.HubFVO
    hub_model: type[BaseModel] = s.Hub

    def render(self, t: TroubleTicket, href: str) -> dict[str, Any]:
        out = render_common(t, href)
        put(out, "externalIdentifier", [_external_id(e) for e in t.external_identifier])
        if t.channel:
            out["channel"] = {
                **render_ref(t.channel, role_key=None),
                "@type": t.channel.ref_type or "ChannelRef",
            }
        put(out, "note", [render_note(n, "Note") for n in t.note])
        put(out, "attachment", [_attachment(a) for a in t.attachment])
        put(
            out,
            "relatedEntity",
            [_related(r, "entity", "RelatedEntity", r.ref_type or "EntityRef") for r in t.related_entity],
        )
        put(
            out,
            "relatedParty",
            [
                _related(
                    r,
                    "partyOrPartyRole",
                    "RelatedPartyRefOrPartyRoleRef",
                    r.ref_type if r.ref_type in _PARTY_TYPES else "PartyRef",
                )
                for r in t.related_party
            ],
        )
        put(
            out,
            "troubleTicketRelationship",
            [
                {**render_ref(r, role_key="relationshipType"), "@type": "TroubleTicketRelationship"}
                for r in t.trouble_ticket_relationship
            ],
        )
        put(out, "troubleTicketCharacteristic", t.trouble_ticket_characteristic)
        put(out, "troubleTicketSpecification", t.trouble_ticket_specification)
        out["statusChangeHistory"] = [
            _status_change(c.status.value, c.change_date, c.change_reason) for c in t.status_change
        ]
        for key, value in t.extensions.items():
            out.setdefault(key, value)
        return out

    def parse(self, body: dict[str, Any]) -> dict[str, Any]:
        m = validate(s.TroubleTicketFVO, body)
        values = common_fields(m)
        for attachment in m.attachment or []:
            if attachment.type_ == "AttachmentRef" and not attachment.id:
                raise InvalidInput("an AttachmentRef needs an 'id'", field="attachment.id")
        values["channel"] = _ref(m.channel) if m.channel else None
        values["related_entity"] = [_ref(r.entity, role=r.role, outer=r) for r in m.related_entity or []]
        values["related_party"] = [
            _ref(r.party_or_party_role, role=r.role, outer=r) for r in m.related_party or []
        ]
        values["trouble_ticket_relationship"] = [
            _ref(r, role=r.relationship_type) for r in m.trouble_ticket_relationship or []
        ]
        values["external_identifier"] = [
            ExternalIdentifier(
                id=e.id,
                owner=e.owner,
                external_identifier_type=e.external_identifier_type,
                extra=model_extras(e),
            )
            for e in m.external_identifier or []
        ]
        values["trouble_ticket_characteristic"] = [
            c.model_dump(mode="json", by_alias=True, exclude_none=True)
            for c in m.trouble_ticket_characteristic or []
        ]
        spec = m.trouble_ticket_specification
        values["trouble_ticket_specification"] = (
            spec.model_dump(mode="json", by_alias=True, exclude_none=True) if spec else None
        )
        return values

    def domain_path(self, wire: tuple[str, ...]) -> tuple[str, ...]:
        head, rest = wire[0], wire[1:]
        if head == "channel" and rest == ("id",):
            return ("channel_id",)
        if head in {"relatedParty", "relatedEntity"} and rest[:1] in {("partyOrPartyRole",), ("entity",)}:
            rest = rest[1:]  # the wrapped reference is stored flat
        first = _TOP.get(head, (snake(head),))
        if first[0] not in TICKET_FIELDS:
            return ("extensions", head, *rest)
        if first[0] in _OPAQUE:
            return (*first, *rest)
        return (*first, *(_SUB.get(p, snake(p)) for p in rest))

    def render_hub(self, sub: Subscription, href: str) -> dict[str, Any]:
        out: dict[str, Any] = {"@type": "Hub", "id": sub.id, "href": href, "callback": sub.callback}
        put(out, "query", sub.query)
        out.update({k: v for k, v in sub.extensions.items() if k not in out})
        return out

    def envelope(self, event: OutboxEvent, ticket: TroubleTicket, href: str) -> dict[str, Any]:
        common = envelope_common(event, self.render(ticket, href))
        out: dict[str, Any] = {"@type": common["eventType"], "id": event.event_id, **common}
        out["timeOccurred"] = fmt(event.occurred_at)
        out["reportingSystem"] = {"@type": "EntityRef", "id": "troubleflow", "name": "troubleflow"}
        if event.kind is EventKind.DELETED:
            # TroubleTicketDeleteEventPayload carries a TroubleTicketRef, not the resource (TMF621 v5).
            doc = out["event"]["troubleTicket"]
            ref = {
                "@type": "TroubleTicketRef",
                "id": doc["id"],
                "href": doc["href"],
                "@referredType": "TroubleTicket",
            }
            put(ref, "name", doc.get("name"))
            out["event"]["troubleTicket"] = ref
        if event.kind is EventKind.INFORMATION_REQUIRED:
            # What the requester should supply; the reason says what, a note is how (JsonPatch, TMF621 v5).
            out["event"]["informationRequired"] = {"op": "add", "path": "/note/-"}
        return out


def _status_change(status: str, date: Any, reason: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": "StatusChange", "status": status}
    put(out, "statusChangeDate", date)
    put(out, "statusChangeReason", reason)
    return out


def _external_id(e: ExternalIdentifier) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": "ExternalIdentifier", "id": e.id}
    put(out, "owner", e.owner)
    put(out, "externalIdentifierType", e.external_identifier_type)
    for key, value in e.extra.items():
        out.setdefault(key, value)
    return out


def _attachment(a: dict[str, Any]) -> dict[str, Any]:
    if a.get("@type") in _ATTACHMENT_TYPES:
        return a
    by_value = any(k in a for k in ("content", "url", "attachmentType", "mimeType"))
    kind = "Attachment" if by_value or "id" not in a else "AttachmentRef"
    return {**{k: v for k, v in a.items() if k != "@type"}, "@type": kind}


def _related(r: Ref, inner_key: str, outer_type: str, inner_type: str) -> dict[str, Any]:
    inner = render_ref(r, role_key=None)
    inner.pop("@type", None)
    out: dict[str, Any] = {"@type": outer_type}
    put(out, "role", r.role)
    out[inner_key] = {"@type": inner_type, **inner}
    return out


def _ref(m: Any, role: str | None = None, outer: Any = None) -> Ref:
    extra = model_extras(m)
    if outer is not None:
        extra.update({k: v for k, v in model_extras(outer).items() if k not in extra})
    for key in ("party_id", "party_name"):
        value = getattr(m, key, None)
        if value is not None:
            extra["partyId" if key == "party_id" else "partyName"] = value
    return Ref(
        id=m.id,
        role=role,
        name=m.name,
        href=m.href,
        referred_type=getattr(m, "referred_type", None),
        ref_type=m.type_,
        extra=extra,
    )
