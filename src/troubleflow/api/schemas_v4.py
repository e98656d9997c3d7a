"""TMF621 v4.0.0 wire schemas (request validation and the OpenAPI document)."""

from __future__ import annotations

from pydantic import Field

from troubleflow.api.wire import Open, Quantity, TimePeriod, UtcDateTime


class Note(Open):
    id: str | None = None
    author: str | None = None
    date: UtcDateTime | None = None
    text: str


class ChannelRef(Open):
    id: str
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class RelatedEntity(Open):
    id: str
    role: str
    referred_type: str = Field(alias="@referredType")
    href: str | None = None
    name: str | None = None


class RelatedParty(Open):
    id: str
    referred_type: str = Field(alias="@referredType")
    href: str | None = None
    name: str | None = None
    role: str | None = None


class TroubleTicketRelationship(Open):
    id: str
    relationship_type: str | None = Field(None, alias="relationshipType")
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class AttachmentRefOrValue(Open):
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


class StatusChange(Open):
    status: str | None = None
    change_date: UtcDateTime | None = Field(None, alias="changeDate")
    change_reason: str | None = Field(None, alias="changeReason")


class _TicketFields(Open):
    name: str | None = None
    priority: str | None = None
    status: str | None = None
    status_change_reason: str | None = Field(None, alias="statusChangeReason")
    requested_resolution_date: UtcDateTime | None = Field(None, alias="requestedResolutionDate")
    expected_resolution_date: UtcDateTime | None = Field(None, alias="expectedResolutionDate")
    resolution_date: UtcDateTime | None = Field(None, alias="resolutionDate")
    external_id: str | None = Field(None, alias="externalId")
    channel: ChannelRef | None = None
    note: list[Note] | None = None
    attachment: list[AttachmentRefOrValue] | None = None
    related_entity: list[RelatedEntity] | None = Field(None, alias="relatedEntity")
    related_party: list[RelatedParty] | None = Field(None, alias="relatedParty")
    trouble_ticket_relationship: list[TroubleTicketRelationship] | None = Field(
        None, alias="troubleTicketRelationship"
    )


class TroubleTicketCreate(_TicketFields):
    """TroubleTicket_Create: description, severity and ticketType are mandatory."""

    description: str
    severity: str
    ticket_type: str = Field(alias="ticketType")


class TroubleTicketUpdate(_TicketFields):
    """TroubleTicket_Update (the body of a merge-patch)."""

    description: str | None = None
    severity: str | None = None
    ticket_type: str | None = Field(None, alias="ticketType")


class TroubleTicket(TroubleTicketCreate):
    """The resource as returned."""

    id: str
    href: str
    creation_date: UtcDateTime | None = Field(None, alias="creationDate")
    last_update: UtcDateTime | None = Field(None, alias="lastUpdate")
    status_change_date: UtcDateTime | None = Field(None, alias="statusChangeDate")
    status_change: list[StatusChange] | None = Field(None, alias="statusChange")


class EventSubscriptionInput(Open):
    callback: str = Field(json_schema_extra={"format": "uri"})
    query: str | None = None


class EventSubscription(EventSubscriptionInput):
    id: str
