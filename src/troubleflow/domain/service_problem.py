"""The service problem (TMF656 ServiceProblem; eTOM 1.4.6 Service Problem Management's *service trouble
report*): its attributes, its lifecycle table and the rules for changing it. Pure: no storage, no web.

Sub-objects (references to services, resources, places, parties, alarms, notes...) are carried as TMF
documents in one neutral, version-independent shape (v4's flat references: `id`, `href`, `name`, `role`,
`@referredType`); the API representations wrap and unwrap them for v5. `trouble_ticket` holds the ids of
the customer problem reports the service problem explains (many reports, one problem).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from troubleflow.domain.events import EventKind, TicketEvent
from troubleflow.domain.ticket import Ref, TroubleTicket
from troubleflow.errors import InvalidInput, InvalidTransition

Json = dict[str, Any]


class ProblemStatus(StrEnum):
    """TMF656 ServiceProblemStateType, the wire strings exactly."""

    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    PENDING = "pending"
    HELD = "held"
    IN_PROGRESS = "inProgress"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"
    CLOSED = "closed"


S = ProblemStatus
INITIAL_STATUS = S.ACKNOWLEDGED
# The TMF656 lifecycle (tmf-apis.md §7): a resolved problem closes when the solution is accepted or goes
# back in progress when it is rejected, even after closing; rejected and cancelled are final.
TRANSITIONS: dict[ProblemStatus, frozenset[ProblemStatus]] = {
    S.ACKNOWLEDGED: frozenset({S.IN_PROGRESS, S.REJECTED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.HELD, S.PENDING, S.RESOLVED, S.CANCELLED}),
    S.HELD: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}),
    S.PENDING: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset({S.IN_PROGRESS}),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}
RESTORED = frozenset({S.RESOLVED, S.CLOSED})  # the service is back: it no longer holds a report open
DROPPED = frozenset({S.REJECTED, S.CANCELLED})  # a false alarm: it explains nothing
OPEN = frozenset(TRANSITIONS) - RESTORED - DROPPED
PRIORITIES = range(1, 11)  # TMF656: 1 (highest) .. 10 (lowest)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceProblem:
    id: str
    version: int = 1
    type_name: str = "ServiceProblem"
    base_type: str | None = None
    schema_location: str | None = None
    name: str | None = None
    description: str
    category: str
    priority: int
    reason: str
    status: ProblemStatus = INITIAL_STATUS
    status_change_date: datetime | None = None
    status_change_reason: str | None = None
    creation_date: datetime | None = None
    last_update: datetime | None = None
    resolution_date: datetime | None = None
    # Estimate Time For Restoring Service (1.4.6.1.3): TMF656 has no attribute for it, so it is the TMF630
    # extension attribute `expectedResolutionDate` (TMF621's name for the same thing, docs/extensions.md).
    expected_resolution_date: datetime | None = None
    originating_system: str | None = None
    impact_importance_factor: str | None = None
    problem_escalation: str | None = None
    affected_number_of_services: int | None = None
    originator_party: Json | None = None
    responsible_party: Json | None = None
    first_alert: Json | None = None
    impact_pattern: Json | None = None
    affected_service: tuple[Json, ...] = ()
    affected_resource: tuple[Json, ...] = ()
    affected_location: tuple[Json, ...] = ()
    root_cause_service: tuple[Json, ...] = ()
    root_cause_resource: tuple[Json, ...] = ()
    underlying_alarm: tuple[Json, ...] = ()
    underlying_problem: tuple[Json, ...] = ()
    parent_problem: tuple[Json, ...] = ()
    related_event: tuple[Json, ...] = ()
    related_entity: tuple[Json, ...] = ()
    related_party: tuple[Json, ...] = ()
    note: tuple[Json, ...] = ()
    characteristic: tuple[Json, ...] = ()
    external_identifier: tuple[Json, ...] = ()
    tracking_record: tuple[Json, ...] = ()
    sla_violation: tuple[Json, ...] = ()
    error_message: tuple[Json, ...] = ()
    trouble_ticket: tuple[str, ...] = ()  # the customer problem reports it explains (ids)
    raised_by: str | None = None  # the report that raised it (Create Service Trouble Report, 1.4.6.1)
    extensions: Json = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


LIST_FIELDS = frozenset(f.name for f in fields(ServiceProblem) if str(f.type).startswith("tuple["))
REQUIRED_FIELDS = ("category", "description", "reason", "originator_party")  # and priority (TMF656 create)
# What a client may set on create and change by PATCH (TMF656 ServiceProblem_Update; id, href, firstAlert,
# originatingSystem and trackingRecord are not patchable; the dates and the links are the server's).
CLIENT_FIELDS = frozenset(
    {
        "name",
        "description",
        "category",
        "priority",
        "reason",
        "status",
        "status_change_reason",
        "resolution_date",
        "expected_resolution_date",
        "impact_importance_factor",
        "problem_escalation",
        "affected_number_of_services",
        "originator_party",
        "responsible_party",
        "impact_pattern",
        "affected_service",
        "affected_resource",
        "affected_location",
        "root_cause_service",
        "root_cause_resource",
        "underlying_alarm",
        "underlying_problem",
        "parent_problem",
        "related_event",
        "related_entity",
        "related_party",
        "note",
        "characteristic",
        "external_identifier",
        "sla_violation",
        "trouble_ticket",
        "extensions",
    }
)
CREATE_ONLY_FIELDS = frozenset(
    {"type_name", "base_type", "schema_location", "first_alert", "originating_system", "tracking_record"}
)


def parse_status(value: Any) -> ProblemStatus:
    try:
        return ProblemStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in ProblemStatus)
        raise InvalidInput(
            f"'{value}' is not a service problem status; use one of: {allowed}", field="status"
        ) from None


def check_transition(current: ProblemStatus, target: ProblemStatus) -> None:
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none (final status)"
        raise InvalidTransition(
            f"a service problem in status '{current.value}' cannot move to '{target.value}'; "
            f"allowed: {allowed}",
            field="status",
        )


def open_problem(
    values: dict[str, Any], *, problem_id: str, now: datetime
) -> tuple[ServiceProblem, TicketEvent]:
    """A new service problem, `acknowledged` (a client-sent status is ignored: the server chooses it)."""
    unknown = set(values) - CLIENT_FIELDS - CREATE_ONLY_FIELDS
    if unknown:
        raise InvalidInput(f"not settable on create: {', '.join(sorted(unknown))}", field=min(unknown))
    values = {k: v for k, v in values.items() if k not in {"status", "status_change_reason"}}
    for name in REQUIRED_FIELDS:
        _require(values.get(name), name)
    _check_priority(values.get("priority"))
    values["note"] = _dated_notes(values.get("note") or (), (), now)
    problem = ServiceProblem(
        id=problem_id,
        creation_date=now,
        last_update=now,
        status_change_date=now,
        extensions=values.pop("extensions", None) or {},
        **{k: _frozen(k, v) for k, v in values.items() if v is not None},
    )
    return problem, TicketEvent(EventKind.CREATED, problem_id, new_status=INITIAL_STATUS.value)


def change_problem(
    problem: ServiceProblem, values: dict[str, Any], *, now: datetime
) -> tuple[ServiceProblem, list[TicketEvent]]:
    """Apply changes; the new problem and its events (none when nothing changed). A status change goes
    through the lifecycle table; reaching `resolved` stamps `resolutionDate`, going back in progress
    clears it; `pending` means the problem needs information (ServiceProblemInformationRequiredEvent)."""
    unknown = set(values) - CLIENT_FIELDS
    if unknown:
        raise InvalidInput(f"not patchable: {', '.join(sorted(unknown))}", field=min(unknown))
    for name in REQUIRED_FIELDS:
        if name in values:
            _require(values[name], name)
    if "priority" in values:
        _check_priority(values["priority"])
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name in {"status", "status_change_reason"}:
            continue
        if name == "note":
            value = _dated_notes(value or (), problem.note, now)
        value = _frozen(name, value)
        if name == "extensions":
            value = value or {}
        if getattr(problem, name) != value:
            changes[name] = value
    events: list[TicketEvent] = []
    if changes:
        events.append(TicketEvent(EventKind.ATTRIBUTES_CHANGED, problem.id, fields=tuple(sorted(changes))))
    target: ProblemStatus | None = values.get("status")
    if target is not None and target != problem.status:
        check_transition(problem.status, target)
        reason = values.get("status_change_reason")
        changes.update(status=target, status_change_date=now, status_change_reason=reason)
        if target is S.RESOLVED and "resolution_date" not in values:
            changes["resolution_date"] = now
        elif target is S.IN_PROGRESS and problem.status in RESTORED and "resolution_date" not in values:
            changes["resolution_date"] = None  # the solution was rejected: not resolved any more
        old = problem.status.value
        events.append(
            TicketEvent(
                EventKind.STATUS_CHANGED, problem.id, old_status=old, new_status=target.value, reason=reason
            )
        )
        if target is S.PENDING:
            events.append(
                TicketEvent(
                    EventKind.INFORMATION_REQUIRED, problem.id, new_status=target.value, reason=reason
                )
            )
    if not changes:
        return problem, []
    return replace(problem, version=problem.version + 1, last_update=now, **changes), events


def linked(problem: ServiceProblem, ticket_ids: tuple[str, ...]) -> tuple[str, ...]:
    """`trouble_ticket` with these reports added (in order, once each)."""
    return tuple(dict.fromkeys([*problem.trouble_ticket, *ticket_ids]))


def unlinked(problem: ServiceProblem, ticket_id: str) -> tuple[str, ...]:
    return tuple(t for t in problem.trouble_ticket if t != ticket_id)


def restored_all(problems: list[ServiceProblem]) -> bool:
    """A report's service problems no longer hold it open: none is open and at least one restored the
    service (a cancelled or rejected problem, a false alarm, clears nothing)."""
    return not any(p.is_open for p in problems) and any(p.status in RESTORED for p in problems)


def ref(problem_id: str, href: str, name: str | None = None) -> Json:
    """A ServiceProblemRef in the neutral shape."""
    out: Json = {"id": problem_id, "href": href, "@referredType": "ServiceProblem"}
    if name:
        out["name"] = name
    return out


def _require(value: Any, name: str) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(f"'{_wire(name)}' is mandatory", field=_wire(name))


def _check_priority(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value not in PRIORITIES:
        raise InvalidInput(
            f"'priority' is an integer from 1 (highest) to 10 (lowest), not {value!r}", field="priority"
        )


def _frozen(name: str, value: Any) -> Any:
    if name in LIST_FIELDS:
        return tuple(value or ())
    return value


def _dated_notes(notes: Any, existing: tuple[Json, ...], now: datetime) -> tuple[Json, ...]:
    """Notes are kept as sent; a new note without a date gets the server's time, and an id."""
    result: list[Json] = []
    known = {n.get("id") for n in existing}
    counter = len(existing)
    for note in notes:
        if not isinstance(note, dict) or not str(note.get("text") or "").strip():
            raise InvalidInput("a note needs a non-empty 'text'", field="note.text")
        if note.get("id") not in known:
            note = dict(note)
            if "date" not in note:
                note["date"] = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            if "id" not in note:
                counter += 1
                note["id"] = str(counter)
        result.append(note)
    return tuple(result)


def _wire(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


# -- the customer problem report's side (Create Service Trouble Report, 1.4.6.1; hand-off H4) ------------

SERVICE_PROBLEM_ROLE = "serviceProblem"
ORIGINATOR = {"id": "troubleflow", "name": "Customer Problem Management", "@referredType": "Organization"}


def from_report(
    ticket: TroubleTicket, *, problem_id: str, now: datetime, given: dict[str, Any] | None = None
) -> tuple[ServiceProblem, TicketEvent]:
    """Generate Service Problem (1.4.6.1.1) and Convert Report To Service Problem Format (1.4.6.1.2): what
    hand-off H4 carries — the originating report (first alert and `troubleTicket`), the affected services
    it names or its configuration snapshot holds, the symptom, the priority and the customer commitment.
    `given` overrides what the report says (an engineer's values)."""
    tracking = ticket.tracking
    commitment = tracking.commitment if tracking is not None else None
    values: dict[str, Any] = {
        "name": ticket.name,
        "description": ticket.description,
        "category": tracking.category if tracking is not None else ticket.ticket_type,
        "priority": _priority_of(tracking.priority if tracking is not None else ticket.priority),
        "reason": f"customer problem report {ticket.id}: root cause in the service layer",
        "originator_party": {**ORIGINATOR, "role": "originator"},
        "first_alert": {"id": ticket.id, "role": "troubleTicket", "@referredType": "TroubleTicket"},
        "affected_service": [{"id": s, "@referredType": "Service"} for s in services_of(ticket)],
        "trouble_ticket": [ticket.id],
        "raised_by": ticket.id,
    }
    if commitment is not None:
        values["characteristic"] = [
            {"name": "customerCommitment", "valueType": "string", "value": commitment.isoformat()}
        ]
    values.update(given or {})
    values["trouble_ticket"] = list(dict.fromkeys([ticket.id, *values["trouble_ticket"]]))
    raised_by = values.pop("raised_by", None)
    problem, event = open_problem(values, problem_id=problem_id, now=now)
    return replace(problem, raised_by=raised_by), event


def services_of(ticket: TroubleTicket) -> tuple[str, ...]:
    """The service instances a report concerns: those it names, then those of its configuration snapshot."""
    named = [r.id for r in ticket.related_entity if (r.referred_type or "").lower() == "service"]
    snapshot = ticket.intake.snapshot if ticket.intake is not None else None
    for product in (snapshot or {}).get("product", []):
        named += [s["id"] for s in product.get("service", []) if "id" in s]
    named += [s["id"] for s in (snapshot or {}).get("service", []) if "id" in s]
    return tuple(dict.fromkeys(named))


def _priority_of(report_priority: str | None) -> int:
    """The report's priority (P1..P4 in the default policy) as TMF656's 1 (highest) .. 10; 5 without one."""
    digits = "".join(c for c in report_priority or "" if c.isdigit())
    return min(max(int(digits), 1), 10) if digits else 5


def with_problem(ticket: TroubleTicket, problem_id: str, href: str) -> list[Ref]:
    """The report's related entities with the problem that explains it (tmf-apis.md §7: role
    `serviceProblem`, `@referredType` ServiceProblem; v5 wraps it as `{role, entity: EntityRef}`)."""
    if any(_is_problem(r, problem_id) for r in ticket.related_entity):
        return list(ticket.related_entity)
    entry = Ref(
        id=problem_id,
        role=SERVICE_PROBLEM_ROLE,
        href=href,
        referred_type="ServiceProblem",
        ref_type="EntityRef",
    )
    return [*ticket.related_entity, entry]


def without_problem(ticket: TroubleTicket, problem_id: str) -> list[Ref]:
    return [r for r in ticket.related_entity if not _is_problem(r, problem_id)]


def _is_problem(r: Ref, problem_id: str) -> bool:
    return r.id == problem_id and r.role == SERVICE_PROBLEM_ROLE
