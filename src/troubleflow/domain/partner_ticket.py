"""A problem delegated to a supplier/partner (Track & Manage 1.3.7.3 → S/P Problem Reporting & Management
1.6.10, research/etom.md H6): our record of the partner's trouble ticket, the TMF621 v4 body we submit,
what a partner's ticket (event or read) tells us, and the partner's commitment. Pure: no storage, no web.

Our report stays ours: the partner ticket is a delegate whose status we follow (T&M keeps coordination)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from troubleflow.domain.inventory import Partner, Product
from troubleflow.domain.ticket import TroubleTicket
from troubleflow.errors import InvalidInput

TARGET = "partnerTroubleTicket"  # the hand-off target kind of every call to a partner's TMF621 API
# The partner's TMF621 statuses (v4 and v5 share them); the final ones end our following of it.
STATUSES = frozenset(
    {"acknowledged", "rejected", "pending", "held", "inProgress", "cancelled", "closed", "resolved"}
)
FINAL = frozenset({"rejected", "cancelled", "closed"})
RESTORED = frozenset({"resolved", "closed"})


@dataclass(frozen=True, slots=True)
class PartnerTicket:
    """Our record of one partner's trouble ticket for one of our reports."""

    id: str
    ticket_id: str
    partner_id: str
    endpoint: str  # the partner's TMF621 API root at submission
    partner_ticket_id: str | None = None  # None until the partner accepted it (201)
    partner_href: str | None = None
    partner_status: str | None = None
    hub_id: str | None = None
    commitment: datetime | None = None  # restore-by under the partner agreement
    expected_resolution: datetime | None = None  # the partner's own expectedResolutionDate
    last_heard_at: datetime | None = None  # the partner's last status or date change reached us
    silence_escalated_at: datetime | None = None
    cancel_reason: str | None = None
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def accepted(self) -> bool:
        return self.partner_ticket_id is not None

    @property
    def is_open(self) -> bool:
        """Still followed: not restored, not ended (a submission not yet accepted is open)."""
        return self.partner_status not in FINAL | RESTORED


@dataclass(frozen=True, slots=True)
class Remote:
    """What a partner's TroubleTicket (a 201 body, a GET body or an event's `troubleTicket`) says."""

    id: str
    status: str | None
    reason: str | None = None
    href: str | None = None
    expected_resolution: datetime | None = None


def commitment_of(partner: Partner, now: datetime) -> datetime | None:
    """Restore-by under the partner agreement: submission time plus its `restorationTime` (wall-clock)."""
    return now + parse_duration(partner.restoration_time) if partner.restoration_time else None


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_duration(value: str) -> timedelta:
    """The normalized ISO 8601 durations the inventory stores (P1D, PT8H, PT30M, P1DT2H)."""
    m = _DURATION.match(value)
    if m is None or value in ("P", "PT"):
        raise InvalidInput(f"'{value}' is not an ISO 8601 duration", field="restorationTime")
    d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return timedelta(days=d, hours=h, minutes=mi, seconds=s)


def submission(
    report: TroubleTicket, partner: Partner, products: tuple[Product, ...], commitment: datetime | None
) -> dict[str, Any]:
    """The TMF621 v4 `TroubleTicket_Create` body submitted to the partner (1.6.10.3): our report's
    description, severity and type, our report id as `externalId`, the partner's products it concerns,
    and the restoration time its agreement requires as `requestedResolutionDate`."""
    body: dict[str, Any] = {
        "@type": "TroubleTicket",
        "name": (report.name or report.description)[:200],
        "description": report.description,
        "severity": report.severity,
        "ticketType": report.ticket_type,
        "externalId": report.id,
        "relatedEntity": [
            {"id": p.id, "role": "affectedProduct", "@referredType": "Product", "name": p.name}
            for p in products
        ],
        "note": [
            {
                "author": "troubleflow",
                "text": f"Raised for our customer problem report {report.id} under the partner "
                f"agreement of {partner.name} (restoration time {partner.restoration_time or 'unstated'}).",
            }
        ],
    }
    if report.priority:
        body["priority"] = report.priority
    if commitment is not None:
        body["requestedResolutionDate"] = _iso(commitment)
    return body


def cancellation(reason: str) -> dict[str, Any]:
    """The merge-patch body cancelling the partner's ticket (1.6.10.6 Manage: cancel with reason)."""
    return {"status": "cancelled", "statusChangeReason": reason}


def subscription(callback: str, partner_ticket_id: str) -> dict[str, Any]:
    """The hub registration on the partner (TMF630 notification pattern): events of this ticket only."""
    return {"callback": callback, "query": f"event.troubleTicket.id={partner_ticket_id}"}


def remote_of(doc: Any) -> Remote:
    """Read a partner's TroubleTicket document; InvalidInput when it is not one."""
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or not doc["id"]:
        raise InvalidInput("a partner trouble ticket needs a string 'id'", field="id")
    status = doc.get("status")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"'{status}' is not a TMF621 trouble ticket status", field="status")
    reason = doc.get("statusChangeReason")
    href = doc.get("href")
    return Remote(
        id=doc["id"],
        status=status,
        reason=reason if isinstance(reason, str) else None,
        href=href if isinstance(href, str) else None,
        expected_resolution=_date(doc.get("expectedResolutionDate")),
    )


def event_ticket(envelope: Any) -> Remote:
    """The trouble ticket a TMF621 event envelope carries (`event.troubleTicket`)."""
    event = envelope.get("event") if isinstance(envelope, dict) else None
    if not isinstance(event, dict) or "troubleTicket" not in event:
        raise InvalidInput("a TMF621 event carries 'event.troubleTicket'", field="event")
    return remote_of(event["troubleTicket"])


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"'{value}' is not a date-time", field="expectedResolutionDate") from None
    if parsed.tzinfo is None:
        raise InvalidInput(f"'{value}' has no time zone", field="expectedResolutionDate")
    return parsed


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def change_words(record: PartnerTicket, remote: Remote) -> str:
    """The partner's news in words, for the note on our report and the audit trail."""
    parts = [f"partner {record.partner_id} ticket {remote.id}"]
    if remote.status is not None and remote.status != record.partner_status:
        parts.append(f"is {remote.status}" + (f" ({remote.reason})" if remote.reason else ""))
    if remote.expected_resolution is not None and remote.expected_resolution != record.expected_resolution:
        parts.append(f"expects restoration at {_iso(remote.expected_resolution)}")
    return ", ".join(parts)


def is_news(record: PartnerTicket, remote: Remote) -> bool:
    """A status or expected-resolution change: what counts as the partner speaking (silence rule)."""
    status_changed = remote.status is not None and remote.status != record.partner_status
    eta_changed = (
        remote.expected_resolution is not None and remote.expected_resolution != record.expected_resolution
    )
    return status_changed or eta_changed
