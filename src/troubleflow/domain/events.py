"""Past-tense domain events; use cases write them to the outbox in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The API whose resource an event concerns, and whose hub subscribers hear it (TMF621 or TMF656).
TROUBLE_TICKET_API = "troubleTicket"
SERVICE_PROBLEM_API = "serviceProblem"


class EventKind(StrEnum):
    CREATED = "created"
    ATTRIBUTES_CHANGED = "attributesChanged"
    STATUS_CHANGED = "statusChanged"
    RESOLVED = "resolved"
    INFORMATION_REQUIRED = "informationRequired"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class TicketEvent:
    """Something that happened to one ticket; `fields` names the changed attributes (domain names)."""

    kind: EventKind
    ticket_id: str
    fields: tuple[str, ...] = ()
    old_status: str | None = None
    new_status: str | None = None
    reason: str | None = None
