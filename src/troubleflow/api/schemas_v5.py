"""TMF621 v5.0.1 wire schemas: every object carries `@type` (Extensible), refs are wrapped."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from troubleflow.api.wire import Open, Quantity, TimePeriod, UtcDateTime


class Typed(Open):
    type_: str = Field(alias="@type")  # v5: @type is required on every object


class Note(Typed):
    id: str | None = None
    author: str | None = None
    date: UtcDateTime | None = None
    text: str


class ExternalIdentifier(Typed):
    id: str
    owner: str | None = None
    external_identifier_type: str | None = Field(None, alias="externalIdentifierType")


class ChannelRef(Typed):
    id: str
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class EntityRef(Typed):
    id: str
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class RelatedEntity(Typed):
    role: str
    entity: EntityRef


class PartyRefOrPartyRoleRef(EntityRef):
    """PartyRef or PartyRoleRef, told apart by `@type`."""

    party_id: str | None = Field(None, alias="partyId")
    party_name: str | None = Field(None, alias="partyName")


class RelatedPartyRefOrPartyRoleRef(Typed):
    role: str | None = None
    party_or_party_role: PartyRefOrPartyRoleRef = Field(alias="partyOrPartyRole")


class TroubleTicketRelationship(Typed):
    id: str
    relationship_type: str = Field(alias="relationshipType")
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class AttachmentRefOrValue(Typed):
    """Attachment (by value) or AttachmentRef (by reference, `id` required), by `@type`."""

    id: str | None = None
    href: str | None = None
    attachment_type: str | None = Field(None, alias="attachmentType")
    content: str | None = None
    description: str | None = None
    mime_type: str | None = Field(None, alias="mimeType")
    name: str | None = None
    url: str | None = None
    size: Quantity | None = None
    valid_for: TimePeriod | None = Field(None, alias="validFor")
    referred_type: str | None = Field(None, alias="@referredType")


class Characteristic(Typed):
    id: str | None = None
    name: str | None = None
    value_type: str | None = Field(None, alias="valueType")
    value: Any = None


class TroubleTicketSpecificationRef(Typed):
    id: str
    href: str | None = None
    name: str | None = None
    version: str | None = None


class StatusChange(Typed):
    status: str | None = None
    status_change_date: UtcDateTime | None = Field(None, alias="statusChangeDate")
    status_change_reason: str | None = Field(None, alias="statusChangeReason")


class _TicketFields(Typed):
    name: str | None = None
    priority: str | None = None
    status: str | None = None
    status_change_reason: str | None = Field(None, alias="statusChangeReason")
    requested_resolution_date: UtcDateTime | None = Field(None, alias="requestedResolutionDate")
    expected_resolution_date: UtcDateTime | None = Field(None, alias="expectedResolutionDate")
    resolution_date: UtcDateTime | None = Field(None, alias="resolutionDate")
    external_identifier: list[ExternalIdentifier] | None = Field(None, alias="externalIdentifier")
    channel: ChannelRef | None = None
    note: list[Note] | None = None
    attachment: list[AttachmentRefOrValue] | None = None
    related_entity: list[RelatedEntity] | None = Field(None, alias="relatedEntity")
    related_party: list[RelatedPartyRefOrPartyRoleRef] | None = Field(None, alias="relatedParty")
    trouble_ticket_relationship: list[TroubleTicketRelationship] | None = Field(
        None, alias="troubleTicketRelationship"
    )
    trouble_ticket_characteristic: list[Characteristic] | None = Field(
        None, alias="troubleTicketCharacteristic"
    )
    trouble_ticket_specification: TroubleTicketSpecificationRef | None = Field(
        None, alias="troubleTicketSpecification"
    )


class TroubleTicketFVO(_TicketFields):
    """TroubleTicket_FVO (create): @type, description, severity and ticketType are mandatory."""

    description: str
    severity: str
    ticket_type: str = Field(alias="ticketType")


class TroubleTicketMVO(_TicketFields):
    """TroubleTicket_MVO (the body of a merge-patch)."""

    type_: str | None = Field(None, alias="@type")  # type: ignore[assignment]
    description: str | None = None
    severity: str | None = None
    ticket_type: str | None = Field(None, alias="ticketType")


class TroubleTicket(TroubleTicketFVO):
    id: str
    href: str
    creation_date: UtcDateTime | None = Field(None, alias="creationDate")
    last_update: UtcDateTime | None = Field(None, alias="lastUpdate")
    status_change_date: UtcDateTime | None = Field(None, alias="statusChangeDate")
    status_change_history: list[StatusChange] | None = Field(None, alias="statusChangeHistory")


class HubFVO(Typed):
    callback: str = Field(json_schema_extra={"format": "uri"})
    query: str | None = None


class Hub(HubFVO):
    id: str
    href: str | None = None
