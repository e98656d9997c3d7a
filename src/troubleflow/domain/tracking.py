"""Track & Manage Customer Problem (1.3.7.3): what the process decides for a report, as pure functions of
the report and the policy: initial diagnosis and categorization (1.3.7.1.5), priority from impact x
urgency (1.3.7.3.5), the committed restoration time on the SLA's business calendar with clock-stops
(1.3.7.3.4), the jeopardy deadlines, and escalation by the matrix (1.3.7.3.3), which never lowers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from troubleflow.domain import policy as p
from troubleflow.domain.calendar import BusinessCalendar, Interval
from troubleflow.domain.known_error import KnownErrorLink
from troubleflow.domain.sla import Pause, SlaClock, deadline
from troubleflow.domain.status import Status
from troubleflow.errors import InvalidInput

# Extension attributes a client may send on create to steer the process (TMF630 extension attributes).
REQUESTED = ("slaClass", "impact", "urgency", "category")


@dataclass(frozen=True, slots=True)
class ClockStop:
    """The SLA clock stood still from `start` to `end` (None: still stopped), e.g. pending on the customer."""

    start: datetime
    end: datetime | None = None
    status: str = Status.PENDING.value


@dataclass(frozen=True, slots=True)
class ForecastBreach:
    """A delegate (a work-plan workgroup, later a service problem or partner ticket) forecast restoration
    after the commitment: a jeopardy input besides the thresholds; set once, never lowered."""

    source: str
    eta: datetime
    since: datetime


@dataclass(frozen=True, slots=True)
class Tracking:
    """The Track & Manage state of one report (server-owned; rendered as extension attributes)."""

    policy_version: str
    sla_class: str
    priority: str  # the policy's priority id (P1..)
    impact: str
    urgency: str
    category: str
    started: datetime
    target: timedelta  # committed restoration time, in working time of the SLA class's calendar
    commitment: datetime | None  # when the target is used up; None while the clock stands still
    stops: tuple[ClockStop, ...] = ()
    escalation_level: int = 0
    rules: tuple[str, ...] = ()  # the diagnosis rules that matched, strongest first
    workgroup: str | None = None  # first-line owner suggested by diagnosis
    false_report: str | None = None  # why diagnosis flagged the report as false or irrelevant
    first_contact_resolution: str | None = None  # the resolution given at first contact
    known_error: KnownErrorLink | None = None  # Check Known Error: the record offered or created from it
    escalation_workgroup: str | None = None  # functional escalation: the workgroup the report is handed to
    forecast_breach: ForecastBreach | None = None  # a delegate's ETA fell after the commitment (1.3.7.3.4)


@dataclass(frozen=True, slots=True)
class Diagnosis:
    category: str
    impact: str
    urgency: str
    priority: str
    rules: tuple[str, ...]
    workgroup: str | None
    false_report: str | None
    first_contact_resolution: str | None


def governs(policy: p.Policy | None, tracking: Tracking | None) -> bool:
    """Whether `policy` is the one the report was committed under: a report keeps its rules, so a newer
    policy (or none) never silently re-computes a commitment or an escalation."""
    return tracking is not None and policy is not None and policy.version == tracking.policy_version


@lru_cache(maxsize=64)
def calendar_of(spec: p.CalendarSpec) -> BusinessCalendar:
    """The working-time calendar of a policy calendar, built once per calendar: building validates the
    holiday region through the holidays library, which cost a third of a create when done per report."""
    days: list[list[Interval]] = [[] for _ in range(7)]
    for interval in spec.weekly_hours:
        days[interval.weekday].append((interval.start, interval.end))
    return BusinessCalendar(
        spec.name,
        spec.timezone,
        tuple(tuple(d) for d in days),
        spec.holiday_country,
        spec.holiday_subdivision,
        spec.extra_holidays,
    )


def clock_of(policy: p.Policy, tracking: Tracking) -> SlaClock:
    calendar = calendar_of(p.calendar_for(policy, tracking.sla_class))
    pauses = tuple(Pause(s.start, s.end) for s in tracking.stops)
    return SlaClock(calendar, tracking.started, tracking.target, pauses)


def facts_of(values: dict[str, Any], requested: dict[str, str]) -> dict[str, str | None]:
    """What diagnosis rules may test (policy.FACT_FIELDS), from a new report's attributes."""
    channel = values.get("channel")
    return {
        "ticketType": values.get("ticket_type"),
        "name": values.get("name"),
        "description": values.get("description"),
        "severity": values.get("severity"),
        "channel": getattr(channel, "id", None),
        "slaClass": requested.get("slaClass"),
    }


def requested_of(extensions: dict[str, Any], policy: p.Policy) -> dict[str, str]:
    """The client's `slaClass`/`impact`/`urgency`/`category`, checked against the policy."""
    asked = {k: extensions[k] for k in REQUESTED if extensions.get(k) is not None}
    for key, value in asked.items():
        if not isinstance(value, str):
            raise InvalidInput(f"'{key}' must be a string", field=key)
    if "slaClass" in asked:
        p.sla_class(policy, asked["slaClass"])  # InvalidInput when unknown
    for key in ("impact", "urgency"):
        if key in asked and asked[key] not in p.LEVELS:
            raise InvalidInput(f"'{key}' must be one of {', '.join(p.LEVELS)}", field=key)
    if "category" in asked and asked["category"] not in {c.id for c in policy.categories}:
        raise InvalidInput(f"unknown category '{asked['category']}'", field="category")
    return asked


def diagnose(policy: p.Policy, facts: dict[str, str | None], requested: dict[str, str]) -> Diagnosis:
    """Perform Initial Diagnosis: the client's explicit values win, then the first matching rule that
    sets each attribute, then the policy defaults; the priority follows from the matrix (1.3.7.3.5)."""
    rules = p.matching_rules(policy, facts)

    def first(attribute: str) -> Any:
        return next((getattr(r, attribute) for r in rules if getattr(r, attribute)), None)

    impact = requested.get("impact") or first("impact") or policy.defaults.impact
    urgency = requested.get("urgency") or first("urgency") or policy.defaults.urgency
    return Diagnosis(
        category=requested.get("category") or first("category") or policy.defaults.category,
        impact=impact,
        urgency=urgency,
        priority=p.priority_for(policy, impact, urgency),
        rules=tuple(r.id for r in rules),
        workgroup=first("workgroup"),
        false_report=first("false_report"),
        first_contact_resolution=first("first_contact_resolution"),
    )


def start(policy: p.Policy, diagnosis: Diagnosis, sla_class: str | None, now: datetime) -> Tracking:
    """Start Track & Manage Customer Problem: commit a restoration time for the report."""
    sla = sla_class or policy.defaults.sla_class
    target = p.restoration_target(policy, sla, diagnosis.priority)
    tracking = Tracking(
        policy_version=policy.version,
        sla_class=sla,
        priority=diagnosis.priority,
        impact=diagnosis.impact,
        urgency=diagnosis.urgency,
        category=diagnosis.category,
        started=now,
        target=target,
        commitment=None,
        rules=diagnosis.rules,
        workgroup=diagnosis.workgroup,
        false_report=diagnosis.false_report,
        first_contact_resolution=diagnosis.first_contact_resolution,
    )
    return replace(tracking, commitment=deadline(clock_of(policy, tracking), 100))


def deadlines(policy: p.Policy, tracking: Tracking, above: int = 0) -> list[tuple[int, datetime]]:
    """(threshold, when) for each jeopardy threshold above `above` (none while the clock stands still)."""
    return list(_deadlines(policy, tracking, above))


def next_deadline(policy: p.Policy, tracking: Tracking, above: int) -> tuple[int, datetime] | None:
    """The first jeopardy threshold above `above` and when it falls due (None: none left, or stopped).
    Only that one is computed: every firing and every create asks, and each instant is a walk over the
    business calendar (a sixth of a timer firing's time when all were computed, cProfile)."""
    return next(_deadlines(policy, tracking, above), None)


def _deadlines(policy: p.Policy, tracking: Tracking, above: int) -> Iterator[tuple[int, datetime]]:
    clock = clock_of(policy, tracking)
    due = ((t, deadline(clock, t)) for t in policy.jeopardy_thresholds if t > above)
    return ((t, when) for t, when in due if when is not None)


def stops_in(policy: p.Policy, tracking: Tracking, status: Status) -> bool:
    return status.value in p.sla_class(policy, tracking.sla_class).clock_stops


def follow_status(
    policy: p.Policy, tracking: Tracking, old: Status, new: Status, now: datetime
) -> Tracking | None:
    """Stop or restart the SLA clock on a status change (None when the clock is unaffected). Entering a
    clock-stop status (e.g. `pending`: waiting on the customer) stops it; leaving it restarts it, and
    the commitment moves out by exactly the working time it stood still."""
    stopping, stopped = stops_in(policy, tracking, new), stops_in(policy, tracking, old)
    if stopping == stopped:
        return None
    if stopping:
        stops = (*tracking.stops, ClockStop(now, None, new.value))
        return replace(tracking, stops=stops, commitment=None)
    last = tracking.stops[-1]
    restarted = replace(tracking, stops=(*tracking.stops[:-1], replace(last, end=now)))
    return replace(restarted, commitment=deadline(clock_of(policy, restarted), 100))


def reopen(policy: p.Policy, tracking: Tracking, cleared: datetime, now: datetime) -> Tracking:
    """A cleared report reopened (the customer says it is not fixed, 1.3.7.4.1): the time it stood cleared
    is a clock-stop, so the SLA clock resumes where clearing stopped it and the commitment moves out by
    the working time in between."""
    stops = (*tracking.stops, ClockStop(min(cleared, now), now, Status.RESOLVED.value))
    restarted = replace(tracking, stops=stops)
    return replace(restarted, commitment=deadline(clock_of(policy, restarted), 100))


def escalate(
    policy: p.Policy, tracking: Tracking, threshold: int
) -> tuple[Tracking, p.EscalationStep | None]:
    """Escalate Customer Problem: the matrix cell for (priority, threshold). The level only rises, so a
    step at or below the current level does nothing (and notifies nobody again)."""
    step = p.escalation_for(policy, tracking.priority, threshold)
    if step is None or step.level <= tracking.escalation_level:
        return tracking, None
    return raised(tracking, step), step


def raised(tracking: Tracking, step: p.EscalationStep) -> Tracking:
    """The state after taking `step`: its level, and its workgroup (functional escalation) as the owner."""
    owner = step.workgroup or tracking.escalation_workgroup
    return replace(tracking, escalation_level=step.level, escalation_workgroup=owner)


def describe(step: p.EscalationStep) -> str:
    """An escalation step in words, for the audit trail."""
    targets = [
        f"workgroup {step.workgroup}" if step.workgroup else "",
        f"role {step.role}" if step.role else "",
    ]
    notify = f"; notify {step.notify}" if step.notify else ""
    return f"level {step.level} at {step.threshold} %: {', '.join(t for t in targets if t)}{notify}"
