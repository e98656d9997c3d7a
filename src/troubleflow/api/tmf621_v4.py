"""TMF621 v4.0.0 representation: flat references, `externalId`, `statusChange[]`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from troubleflow.api import schemas_v4 as s
from troubleflow.api.representation import (
    REQUESTABLE,
    SERVER_OWNED,
    envelope_common,
    fmt,
    model_extras,
    put,
    render_common,
    render_note,
    render_ref,
    snake,
    validate,
    wire_name,
)
from troubleflow.domain.events import EventKind
from troubleflow.domain.ticket import TICKET_FIELDS, ExternalIdentifier, Ref, TroubleTicket
from troubleflow.storage.hubs import Subscription
from troubleflow.storage.outbox import OutboxEvent

_TOP = {"externalId": ("external_id",), "@type": ("type_name",), "statusChange": ("status_change",)}
_SUB = {
    "@referredType": "referred_type",
    "@type": "ref_type",
    "relationshipType": "role",
    "changeDate": "change_date",
    "changeReason": "change_reason",
}


class V4:
    version: str = "v4"
    # R18-era CTKs expect exactly the selected attributes (tmf-apis.md §6, "Attribute selection").
    identity_keys: frozenset[str] = frozenset()
    server_owned: frozenset[str] = SERVER_OWNED | REQUESTABLE | {"statusChange"}
    create_model: type[BaseModel] = s.TroubleTicketCreate
    update_model: type[BaseModel] = s.TroubleTicketUpdate
    resource_model: type[BaseModel] = s.TroubleTicket
    hub_input_model: type[BaseModel] = s.EventSubscriptionInput
    hub_model: type[BaseModel] = s.EventSubscription

    def render(self, t: TroubleTicket, href: str) -> dict[str, Any]:
        out = render_common(t, href)
        if t.external_identifier:
            out["externalId"] = t.external_identifier[0].id
        if t.channel:
            out["channel"] = render_ref(t.channel, role_key=None)
        put(out, "note", [render_note(n, None) for n in t.note])
        put(out, "attachment", t.attachment)
        put(out, "relatedEntity", [render_ref(r) for r in t.related_entity])
        put(out, "relatedParty", [render_ref(r) for r in t.related_party])
        put(
            out,
            "troubleTicketRelationship",
            [render_ref(r, role_key="relationshipType") for r in t.trouble_ticket_relationship],
        )
        # v5-only data travels in v4 as extension attributes (TMF630 allows extra attributes).
        put(out, "troubleTicketCharacteristic", t.trouble_ticket_characteristic)
        put(out, "troubleTicketSpecification", t.trouble_ticket_specification)
        out["statusChange"] = [
            _status_change(c.status.value, c.change_date, c.change_reason) for c in t.status_change
        ]
        for key, value in t.extensions.items():
            out.setdefault(key, value)
        return out

    def parse(self, body: dict[str, Any]) -> dict[str, Any]:
        from troubleflow.api.representation import common_fields

        m = validate(s.TroubleTicketCreate, body)
        values = common_fields(m)
        values["channel"] = _ref(m.channel) if m.channel else None
        values["related_entity"] = [_ref(r) for r in m.related_entity or []]
        values["related_party"] = [_ref(r) for r in m.related_party or []]
        values["trouble_ticket_relationship"] = [
            _ref(r, role=r.relationship_type) for r in m.trouble_ticket_relationship or []
        ]
        values["external_identifier"] = [ExternalIdentifier(id=m.external_id)] if m.external_id else []
        extensions = values["extensions"]
        values["trouble_ticket_characteristic"] = extensions.pop("troubleTicketCharacteristic", None) or []
        values["trouble_ticket_specification"] = extensions.pop("troubleTicketSpecification", None)
        return values

    def domain_path(self, wire: tuple[str, ...]) -> tuple[str, ...]:
        head, rest = wire[0], wire[1:]
        if head == "channel" and rest == ("id",):
            return ("channel_id",)
        first = _TOP.get(head, (snake(head),))
        if first[0] not in TICKET_FIELDS and first[0] not in {"external_id", "type_name"}:
            return ("extensions", head, *rest)
        if head == "attachment":
            return (*first, *rest)
        return (*first, *(_SUB.get(p, snake(p)) for p in rest))

    def render_hub(self, sub: Subscription, href: str) -> dict[str, Any]:
        out: dict[str, Any] = {"id": sub.id, "callback": sub.callback}
        put(out, "query", sub.query)
        out.update({k: v for k, v in sub.extensions.items() if k not in out})
        return out

    def envelope(self, event: OutboxEvent, ticket: TroubleTicket, href: str) -> dict[str, Any]:
        out = envelope_common(event, self.render(ticket, href))
        out["timeOcurred"] = fmt(event.occurred_at)  # sic: the v4 schema spells it this way
        if event.kind is EventKind.ATTRIBUTES_CHANGED and event.fields:
            out["fieldPath"] = ",".join(wire_name(f) for f in event.fields)
        return out


def _status_change(status: str, date: Any, reason: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status}
    put(out, "changeDate", date)
    put(out, "changeReason", reason)
    return out


def _ref(m: Any, role: str | None = None) -> Ref:
    extra = model_extras(m)
    if m.type_ is not None:
        extra["@type"] = m.type_
    return Ref(
        id=m.id,
        role=role if role is not None else getattr(m, "role", None),
        name=m.name,
        href=m.href,
        referred_type=getattr(m, "referred_type", None),
        extra=extra,
    )
