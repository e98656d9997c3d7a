"""The operator's policy as the processes see it: SLA classes, calendars, escalation matrix, workgroups,
diagnosis rules, priority matrix and work plans, plus the pure lookups the processes call.

Policies are loaded and validated by `troubleflow.policy_files`; here they are plain immutable data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Protocol, TypeVar

from troubleflow.errors import InvalidInput

# Prioritize Customer Problem (1.3.7.3.5) crosses impact with urgency; both use this scale.
LEVELS = ("high", "medium", "low")

# Report fields a diagnosis rule may test (TMF621 names; product and region come from the related entities).
FACT_FIELDS = (
    "ticketType",
    "name",
    "description",
    "severity",
    "channel",
    "productCategory",
    "productOffering",
    "region",
    "slaClass",
)

# Open statuses in which an SLA clock may be stopped (research/etom.md J4: time pending on the customer).
CLOCK_STOP_STATUSES = ("acknowledged", "inProgress", "pending", "held")


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


@dataclass(frozen=True, slots=True)
class Priority:
    id: str
    name: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class WeeklyInterval:
    """Working time `[start, end)` on one weekday (0 = Monday) in local time; `end == time(0)` means 24:00,
    the convention of `domain.calendar`."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """The data of a business calendar; working-time arithmetic lives in `domain.calendar`."""

    id: str
    name: str
    timezone: str
    weekly_hours: tuple[WeeklyInterval, ...]
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    extra_holidays: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class SlaClass:
    """Restoration (and response) targets per priority, counted in the working time of `calendar`."""

    id: str
    name: str
    calendar: str
    restoration: Mapping[str, timedelta]
    response: Mapping[str, timedelta]
    clock_stops: frozenset[str]


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """A cell of the escalation matrix (1.3.7.3.3): functional (`workgroup`) and/or hierarchical (`role`)."""

    priority: str
    threshold: int
    level: int
    workgroup: str | None
    role: str | None
    notify: str | None


@dataclass(frozen=True, slots=True)
class Recipient:
    channel: Channel
    address: str


@dataclass(frozen=True, slots=True)
class NotificationList:
    """A managed list of parties told about events (owned by Support Problem Handling, 1.3.1.3.9)."""

    id: str
    name: str
    recipients: tuple[Recipient, ...]


@dataclass(frozen=True, slots=True)
class Skill:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Workgroup:
    """A team that takes recovery tasks; no regions means it serves every region."""

    id: str
    name: str
    tier: int
    skills: frozenset[str]
    regions: frozenset[str]
    capacity: int
    calendar: str | None


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    """One step of a category's work plan (Coordinate Customer Problem, 1.3.7.3.1)."""

    id: str
    name: str
    workgroup: str | None
    skill: str | None
    depends_on: tuple[str, ...]
    mandatory: bool
    expected_duration: timedelta


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    name: str
    tasks: tuple[TaskTemplate, ...]
    layer: str = "customer"  # "service": the root cause is in the service layer, delegated (1.4.6.1)


@dataclass(frozen=True, slots=True)
class Condition:
    """A test on one report field; every part that is set must hold (`equals`: any of, `keywords`: any)."""

    field: str
    equals: tuple[str, ...] = ()
    regex: re.Pattern[str] | None = None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DiagnosisRule:
    """Perform Initial Diagnosis / Categorize (1.3.7.1.5): when all conditions hold, what the rule sets."""

    id: str
    description: str
    when: tuple[Condition, ...]
    category: str | None = None
    impact: str | None = None
    urgency: str | None = None
    workgroup: str | None = None
    false_report: str | None = None  # the cancellation reason for a false or irrelevant report
    first_contact_resolution: str | None = None  # the resolution given at first contact


@dataclass(frozen=True, slots=True)
class CloseRules:
    """Close Customer Problem Report (1.3.7.4): what a report needs before it may close."""

    require_root_cause: bool
    require_resolution: bool
    require_restoration_time: bool
    satisfaction_survey: bool
    auto_close_after: timedelta | None


@dataclass(frozen=True, slots=True)
class ServiceDomain:
    """A service domain whose service problems an external TMF656 manager handles (docs/service-problems.md):
    a problem a report raises goes to `endpoint` (its TMF656 v4 API root) when its category is one of
    `categories` or one of its affected services has a specification among `service_specifications`."""

    id: str
    endpoint: str
    categories: tuple[str, ...] = ()
    service_specifications: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Delegation:
    """What Track & Manage delegates and how (docs/service-problems.md, docs/partners.md). `on_cancel`:
    what cancelling a report (Cancel Customer Problem, 1.3.7.3.2) does to what it delegated: `cancel` the
    service problems only it raised and no other open report needs, and its partners' tickets; `delink`
    leaves them to the others (service problems de-linked, partner tickets left open)."""

    on_cancel: str = "cancel"  # cancel | delink
    poll_interval: timedelta = timedelta(minutes=15)  # GET the partner's ticket when no event came since
    silence_notify: str | None = None  # the list of the partner managers (silent past commitment)
    auto_submit: bool = True  # submit at intake when a named product belongs to a partner with an endpoint
    service_domains: tuple[ServiceDomain, ...] = ()  # external TMF656 managers, first match wins


# When Track & Manage Customer Problem (1.3.7.3) starts for a new report (policy `intake.start_tracking`):
AT_CREATION = "at_creation"  # in the creation transaction: the 201 carries priority, commitment, tasks
IN_WORKER = "in_worker"  # the 201 acknowledges the report; the worker starts tracking it (a storm's mode)


@dataclass(frozen=True, slots=True)
class IntakeRules:
    """The policy's `intake:` section (docs/policy.md)."""

    start_tracking: str = AT_CREATION  # AT_CREATION | IN_WORKER


@dataclass(frozen=True, slots=True)
class RestorationRules:
    """The policy's `restoration:` section (docs/policy.md)."""

    validate_before_clear: bool = False
    # The task a failed restoration / an infeasible one adds to the plan (None: no task), and its skill.
    failed_task: str | None = "Re-diagnose and isolate after a failed restoration"
    infeasible_task: str | None = "Re-plan the restoration: not feasible as planned"
    replan_skill: str | None = None
    workaround_known_error: bool = True
    workaround_change_request: bool = True
    major_priorities: tuple[str, ...] = ()
    major_severities: tuple[str, ...] = ()
    major_outage_masters: bool = False


@dataclass(frozen=True, slots=True)
class Defaults:
    sla_class: str
    category: str
    impact: str
    urgency: str


@dataclass(frozen=True, slots=True)
class Policy:
    version: str
    valid_from: datetime
    description: str
    priorities: tuple[Priority, ...]
    priority_matrix: Mapping[str, Mapping[str, str]]  # impact -> urgency -> priority id
    defaults: Defaults
    calendars: tuple[CalendarSpec, ...]
    sla_classes: tuple[SlaClass, ...]
    jeopardy_thresholds: tuple[int, ...]
    escalation: tuple[EscalationStep, ...]
    notification_lists: tuple[NotificationList, ...]
    skills: tuple[Skill, ...]
    workgroups: tuple[Workgroup, ...]
    categories: tuple[Category, ...]
    diagnosis_rules: tuple[DiagnosisRule, ...]
    progress_updates: Mapping[str, timedelta | None]  # priority id -> interval (None: no periodic update)
    close: CloseRules
    delegation: Delegation = field(default_factory=Delegation)
    restoration: RestorationRules = field(default_factory=RestorationRules)  # 1.3.7.6, docs/restoration.md
    intake: IntakeRules = field(default_factory=IntakeRules)  # 1.3.7.5 → 1.3.7.3, docs/policy.md


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_Identified)


def _by_id(items: Iterable[T], wanted: str, kind: str) -> T:
    for item in items:
        if item.id == wanted:
            return item
    raise InvalidInput(f"the policy has no {kind} {wanted!r}")


def priority_for(policy: Policy, impact: str, urgency: str) -> str:
    """Prioritize Customer Problem (1.3.7.3.5): the priority id for an impact and urgency pair."""
    try:
        return policy.priority_matrix[impact][urgency]
    except KeyError:
        raise InvalidInput(
            f"impact and urgency are one of {', '.join(LEVELS)}, not {impact!r} and {urgency!r}"
        ) from None


def sla_class(policy: Policy, sla_class_id: str) -> SlaClass:
    return _by_id(policy.sla_classes, sla_class_id, "SLA class")


def restoration_target(policy: Policy, sla_class_id: str, priority: str) -> timedelta:
    """The committed restoration time, in working time of the SLA class's calendar."""
    targets = sla_class(policy, sla_class_id).restoration
    if priority not in targets:
        raise InvalidInput(f"the policy has no priority {priority!r}")
    return targets[priority]


def calendar_for(policy: Policy, sla_class_id: str) -> CalendarSpec:
    """The calendar whose working time counts against the SLA class's targets."""
    return _by_id(policy.calendars, sla_class(policy, sla_class_id).calendar, "calendar")


def escalation_for(policy: Policy, priority: str, threshold: int) -> EscalationStep | None:
    """The escalation step in force once `threshold` % of the commitment passed (1.3.7.3.3).

    That is the step of this priority with the highest threshold not above `threshold`; None before the
    first one. Levels never decrease as thresholds rise, so a caller escalates when the level is higher.
    """
    steps = [s for s in policy.escalation if s.priority == priority and s.threshold <= threshold]
    return max(steps, key=lambda s: s.threshold, default=None)


def _holds(condition: Condition, value: str | None) -> bool:
    if value is None:
        return False
    if condition.equals and value.casefold() not in {v.casefold() for v in condition.equals}:
        return False
    if condition.regex is not None and condition.regex.search(value) is None:
        return False
    if condition.keywords:
        return _keyword_pattern(condition.keywords).search(value) is not None
    return True


@lru_cache(maxsize=256)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    """Any of the whole words or phrases, any case: "cut" matches "fibre cut" but not "execute"."""
    alternatives = "|".join(re.escape(k) for k in keywords)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def matching_rules(policy: Policy, facts: Mapping[str, str | None]) -> list[DiagnosisRule]:
    """The diagnosis rules whose every condition holds on `facts`, in policy order (first is strongest)."""
    return [rule for rule in policy.diagnosis_rules if all(_holds(c, facts.get(c.field)) for c in rule.when)]


def workgroups_with_skill(policy: Policy, skill: str, region: str | None = None) -> tuple[Workgroup, ...]:
    """Workgroups offering `skill` (in `region` when given; a workgroup without regions serves all)."""
    return tuple(
        w
        for w in policy.workgroups
        if skill in w.skills and (region is None or not w.regions or region in w.regions)
    )


def progress_interval(policy: Policy, priority: str) -> timedelta | None:
    """How often the customer hears about progress while nothing changes (Monitor Resolution Update)."""
    if priority not in policy.progress_updates:
        raise InvalidInput(f"the policy has no priority {priority!r}")
    return policy.progress_updates[priority]


def tasks_for(policy: Policy, category: str) -> tuple[TaskTemplate, ...]:
    """The work plan template of a category (Coordinate Customer Problem, 1.3.7.3.1)."""
    return _by_id(policy.categories, category, "category").tasks


def notification_list(policy: Policy, list_id: str) -> NotificationList:
    return _by_id(policy.notification_lists, list_id, "notification list")


def active_policy(policies: Sequence[Policy], at: datetime) -> Policy:
    """The policy in force at `at`: the latest one whose `valid_from` is not after it (etom.md I6)."""
    if at.tzinfo is None:
        raise InvalidInput("the time to pick a policy for must carry a timezone")
    candidates = [p for p in policies if p.valid_from <= at]
    if not candidates:
        raise InvalidInput(f"no policy is valid at {at.isoformat()}")
    return max(candidates, key=lambda p: p.valid_from)


def in_service_layer(policy: Policy, category: str) -> bool:
    """Whether a category's root cause lies in the service layer: its reports raise a service problem."""
    return any(c.id == category and c.layer == "service" for c in policy.categories)
