"""A service problem handed to an external TMF656 service problem manager (Track & Manage 1.3.7.3 →
Service Problem Management 1.4.6 in another system, hand-offs H4/H5; docs/service-problems.md): which
service domain takes a problem, our record of the remote problem, the TMF656 v4 bodies we send and what a
remote problem (a 201 body or an event's `serviceProblem`) tells us. Pure: no storage, no web.

Our local service problem stays: it is the *mirror* of the remote one, linked both ways to the reports it
explains, so estimates, clearing and the cancel cascade work as for a problem we manage ourselves."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from troubleflow.domain import service_problem as sp
from troubleflow.domain.policy import ServiceDomain
from troubleflow.errors import InvalidInput

TARGET = "externalServiceProblem"  # the hand-off target kind of every call to an external TMF656 API
OWNER = "troubleflow"  # the owner of our id in the remote problem's externalIdentifier (and the reverse)
REMOTE_ID_TYPE = "remoteServiceProblem"  # externalIdentifierType of the remote id kept on the mirror


@dataclass(frozen=True, slots=True)
class ExternalProblem:
    """Our record of the remote problem a mirror (our local service problem `problem_id`) stands for."""

    problem_id: str
    domain_id: str
    endpoint: str  # the manager's TMF656 API root when the problem was handed over
    ticket_id: str | None = None  # the report that raised it
    remote_id: str | None = None  # None until the manager answered 201
    remote_href: str | None = None
    remote_status: str | None = None
    hub_id: str | None = None
    cancel_reason: str | None = None  # our cancellation, sent (or to be sent once the 201 arrives)
    last_heard_at: datetime | None = None
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def accepted(self) -> bool:
        return self.remote_id is not None


@dataclass(frozen=True, slots=True)
class Remote:
    """What a remote ServiceProblem says: its id and, when present, status and restoration estimate."""

    id: str
    href: str | None = None
    status: sp.ProblemStatus | None = None
    reason: str | None = None
    expected_resolution: datetime | None = None
    has_expected_resolution: bool = False


def domain_for(
    domains: Iterable[ServiceDomain], category: str, specifications: Iterable[str]
) -> ServiceDomain | None:
    """The first service domain (in policy order) whose categories hold the problem's category or whose
    service specifications hold one of its affected services' specifications; None: managed here."""
    specs = set(specifications)
    for candidate in domains:
        if category in candidate.categories or specs & set(candidate.service_specifications):
            return candidate
    return None


def creation(problem: sp.ServiceProblem) -> dict[str, Any]:
    """The TMF656 v4 `ServiceProblem_Create` body for the remote manager (H4): what the mirror carries,
    with our problem's id as an `externalIdentifier`. Our reports are named in `relatedEntity` (the
    manager does not hold them, so `troubleTicket` references would point nowhere)."""
    body: dict[str, Any] = {
        "@type": "ServiceProblem",
        "category": problem.category,
        "priority": problem.priority,
        "description": problem.description,
        "reason": problem.reason,
        "originatingSystem": OWNER,
        "externalIdentifier": [
            {"id": problem.id, "owner": OWNER, "externalIdentifierType": "serviceProblem"}
        ],
    }
    if problem.name:
        body["name"] = problem.name
    if problem.originator_party:
        body["originatorParty"] = dict(problem.originator_party)
    for key, values in (
        ("affectedService", problem.affected_service),
        ("affectedResource", problem.affected_resource),
        ("affectedLocation", problem.affected_location),
        ("characteristic", problem.characteristic),
    ):
        if values:
            body[key] = [dict(v) for v in values]
    body["relatedEntity"] = [
        {"id": t, "role": "troubleTicket", "@referredType": "TroubleTicket"} for t in problem.trouble_ticket
    ]
    return body


def subscription(callback: str, remote_id: str) -> dict[str, Any]:
    """The TMF630 hub registration on the manager: its events about this one problem, to our listener."""
    return {"callback": callback, "query": f"event.serviceProblem.id={remote_id}"}


def cancellation(reason: str) -> dict[str, Any]:
    """The merge-patch body cancelling the remote problem (our report was cancelled, 1.3.7.3.2)."""
    return {"status": sp.S.CANCELLED.value, "statusChangeReason": reason}


def remote_id_ref(record: ExternalProblem) -> dict[str, Any]:
    """The mirror's `externalIdentifier` entry naming the remote problem (TMF656 ExternalIdentifier)."""
    return {"id": record.remote_id, "owner": record.domain_id, "externalIdentifierType": REMOTE_ID_TYPE}


def remote_of(body: Any) -> Remote:
    """Read a remote ServiceProblem (a 201/GET body or an event's `serviceProblem`); InvalidInput when it
    has no id, an unknown status or a malformed date."""
    if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not body["id"]:
        raise InvalidInput("a service problem with an 'id' is expected", field="event.serviceProblem.id")
    status = body.get("status")
    parsed = sp.parse_status(status) if status is not None else None
    reason = body.get("statusChangeReason")
    href = body.get("href")
    has_eta = "expectedResolutionDate" in body
    return Remote(
        id=body["id"],
        href=href if isinstance(href, str) else None,
        status=parsed,
        reason=reason if isinstance(reason, str) else None,
        expected_resolution=_date(body.get("expectedResolutionDate")),
        has_expected_resolution=has_eta,
    )


def event_problem(envelope: Any) -> tuple[str, Remote]:
    """The event type and remote problem of a TMF656 event (v4 or v5 envelope: `event.serviceProblem`)."""
    event = envelope.get("event") if isinstance(envelope, dict) else None
    if not isinstance(event, dict) or not isinstance(event.get("serviceProblem"), dict):
        raise InvalidInput("a TMF656 event carries 'event.serviceProblem'", field="event.serviceProblem")
    event_type = envelope.get("eventType") or envelope.get("@type") or ""
    return str(event_type), remote_of(event["serviceProblem"])


def changes_for(mirror: sp.ServiceProblem, remote: Remote) -> dict[str, Any]:
    """What the mirror must change to say what the remote problem says (empty: nothing new), excluding
    the status (the caller steps it through the lifecycle: `status_path`)."""
    changes: dict[str, Any] = {}
    if remote.has_expected_resolution and remote.expected_resolution != mirror.expected_resolution_date:
        changes["expected_resolution_date"] = remote.expected_resolution
    return changes


def status_path(current: sp.ProblemStatus, target: sp.ProblemStatus) -> tuple[sp.ProblemStatus, ...]:
    """The statuses the mirror goes through to reach the remote's (events may be missed or coalesced:
    `acknowledged` → `resolved` passes `inProgress`). Empty when it is there; the direct move otherwise,
    which the lifecycle then refuses when no path exists."""
    if target == current:
        return ()
    if target in sp.TRANSITIONS[current]:
        return (target,)
    middle = sp.S.IN_PROGRESS
    if middle in sp.TRANSITIONS[current] and target in sp.TRANSITIONS[middle]:
        return (middle, target)
    return (target,)


def _date(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(
            "'expectedResolutionDate' is an ISO 8601 date-time", field="expectedResolutionDate"
        )
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"'expectedResolutionDate' is not an ISO 8601 date-time: {value!r}",
            field="expectedResolutionDate",
        ) from None
    if parsed.tzinfo is None:
        raise InvalidInput("'expectedResolutionDate' needs a time zone", field="expectedResolutionDate")
    return parsed
