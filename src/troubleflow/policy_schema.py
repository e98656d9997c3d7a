"""The policy file format: the value syntax (ISO 8601 durations, `HH:MM-HH:MM` hours, `mon-fri` days) and
pydantic models of one `policies/*.yaml` file, plus the way back: a policy as JSON in the same syntax."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from typing import Annotated, Any, Literal, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from troubleflow.domain.policy import CLOCK_STOP_STATUSES, FACT_FIELDS, LEVELS, Policy, WeeklyInterval

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DURATION_SYNTAX = "a duration is ISO 8601 (PT4H, PT30S, P5D) or whole seconds"


def _duration_syntax(value: object) -> object:
    """Only the documented forms; pydantic alone would also take e.g. '1 day, 10:00:00'."""
    text = value.strip() if isinstance(value, str) else None
    if isinstance(value, bool) or (text is not None and not (text.startswith("P") or text.isdigit())):
        raise ValueError(f"{DURATION_SYNTAX}, not {value!r}")
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("a duration must be longer than zero")
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration_syntax), AfterValidator(_positive)]


def _days(value: object) -> tuple[int, ...]:
    """`mon`, or an inclusive range such as `mon-fri`."""
    first, _, last = str(value).strip().lower().partition("-")
    last = last or first
    if first not in DAYS or last not in DAYS or DAYS.index(first) > DAYS.index(last):
        raise ValueError(f"days are one of {', '.join(DAYS)} or a range like mon-fri, not {value!r}")
    return tuple(range(DAYS.index(first), DAYS.index(last) + 1))


def _interval(value: object) -> tuple[timedelta, timedelta]:
    """`HH:MM-HH:MM` in local time; the end may be 24:00."""
    found = _INTERVAL.match(value.strip()) if isinstance(value, str) else None
    if found is None:
        raise ValueError(f"working hours are written 'HH:MM-HH:MM' (e.g. '08:00-18:00'), not {value!r}")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 > 0):
        raise ValueError(f"{value!r} is not a time of day (00:00 to 24:00)")
    start, end = timedelta(hours=h1, minutes=m1), timedelta(hours=h2, minutes=m2)
    if start >= end:
        raise ValueError(f"{value!r} ends before it starts")
    return start, end


def _listed(value: object) -> object:
    return [value] if isinstance(value, str) else value


def _one_of(choices: tuple[str, ...], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(f"{what} is one of {', '.join(choices)}, not {value!r}")
        return value

    return AfterValidator(check)


FactField = Annotated[str, _one_of(FACT_FIELDS, "a rule field")]
ClockStop = Annotated[str, _one_of(CLOCK_STOP_STATUSES, "a clock-stop status")]
Level = Annotated[str, _one_of(LEVELS, "an impact or urgency")]
DayRange = Annotated[tuple[int, ...], BeforeValidator(_days)]
Intervals = Annotated[
    list[Annotated[tuple[timedelta, timedelta], BeforeValidator(_interval)]], BeforeValidator(_listed)
]


def _valid_from(value: object) -> datetime:
    """A timezone-aware date-time, or a date meaning 00:00 UTC (PyYAML already parses both)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"valid_from is an ISO 8601 date or date-time, not {value!r}") from None
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValueError("valid_from needs a timezone, e.g. 2026-01-01T00:00:00Z (a bare date means UTC)")
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ValueError(f"valid_from is an ISO 8601 date or date-time, not {value!r}")


def _version(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f'quote the version, e.g. version: "{value}" (YAML read it as a number)')
    return value


@cache
def _holiday_countries() -> dict[str, list[str]]:
    import holidays  # imported on first use: it is large, and most CLI commands never need it

    return holidays.list_supported_countries()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriorityModel(_Model):
    id: Id
    name: str = ""
    description: str = ""


class HolidaysModel(_Model):
    country: str
    subdivision: str | None = None

    @model_validator(mode="after")
    def _known(self) -> HolidaysModel:
        countries = _holiday_countries()
        if self.country not in countries:
            raise ValueError(f"unknown holiday country {self.country!r} (ISO 3166 code, e.g. DE)")
        if self.subdivision is not None and self.subdivision not in countries[self.country]:
            raise ValueError(f"unknown subdivision {self.subdivision!r} of {self.country}")
        return self


class CalendarModel(_Model):
    id: Id
    name: str = ""
    timezone: str
    hours: dict[DayRange, Intervals] = Field(min_length=1)
    holidays: HolidaysModel | None = None
    extra_holidays: list[date] = []

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. Europe/Berlin, UTC)") from None
        return value

    @model_validator(mode="after")
    def _no_overlap(self) -> CalendarModel:
        if not any(self.hours.values()):
            raise ValueError("hours: a calendar needs some working time in the week")
        for weekday in range(7):
            spans = sorted(span for days, spans in self.hours.items() if weekday in days for span in spans)
            for (_, end), (start, _) in pairwise(spans):
                if start < end:
                    raise ValueError(f"hours: working intervals on {DAYS[weekday]} overlap")
        return self


class SlaClassModel(_Model):
    id: Id
    name: str = ""
    calendar: str
    restoration: dict[str, Duration]
    response: dict[str, Duration] = {}
    clock_stops: list[ClockStop] = []


class EscalationModel(_Model):
    priority: str
    threshold: int
    level: int = Field(ge=1, le=3)
    workgroup: str | None = None
    role: str | None = None
    notify: str | None = None

    @model_validator(mode="after")
    def _target(self) -> EscalationModel:
        if self.workgroup is None and self.role is None:
            raise ValueError("an escalation names a workgroup (functional), a role (hierarchical) or both")
        return self


class RecipientModel(_Model):
    channel: Literal["webhook", "email"]
    address: str

    @model_validator(mode="after")
    def _address(self) -> RecipientModel:
        if self.channel == "email" and not _EMAIL.match(self.address):
            raise ValueError(f"{self.address!r} is not an e-mail address")
        url = urlsplit(self.address)
        if self.channel == "webhook" and (url.scheme not in {"http", "https"} or not url.netloc):
            raise ValueError(f"a webhook address is an http(s) URL, not {self.address!r}")
        return self


class NotificationListModel(_Model):
    id: Id
    name: str = ""
    recipients: list[RecipientModel] = Field(min_length=1)


class SkillModel(_Model):
    id: Id
    name: str = ""


class WorkgroupModel(_Model):
    id: Id
    name: str = ""
    tier: int = Field(default=1, ge=1, le=3)
    skills: list[str] = []
    regions: list[str] = []
    capacity: int = Field(ge=1)
    calendar: str | None = None


class TaskModel(_Model):
    id: Id
    name: str = ""
    workgroup: str | None = None
    skill: str | None = None
    depends_on: list[str] = []
    mandatory: bool = True
    expected_duration: Duration

    @model_validator(mode="after")
    def _owner(self) -> TaskModel:
        if (self.workgroup is None) == (self.skill is None):
            raise ValueError("a task names a workgroup or a skill (exactly one of them)")
        return self


class CategoryModel(_Model):
    id: Id
    name: str = ""
    tasks: list[TaskModel] = []
    layer: Literal["customer", "service"] = "customer"


def _condition(value: object) -> object:
    """Shorthand: `field: text` or `field: [a, b]` means equals."""
    return {"equals": value} if isinstance(value, str | list) else value


class ConditionModel(_Model):
    equals: Annotated[list[str], BeforeValidator(_listed)] = []
    regex: str | None = None
    keywords: list[str] = []

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _something(self) -> ConditionModel:
        if not (self.equals or self.regex or self.keywords):
            raise ValueError("a condition needs equals, regex or keywords")
        return self


class ThenModel(_Model):
    category: str | None = None
    impact: Level | None = None
    urgency: Level | None = None
    workgroup: str | None = None
    false_report: str | None = None
    first_contact_resolution: str | None = None

    @model_validator(mode="after")
    def _sensible(self) -> ThenModel:
        if not self.model_dump(exclude_none=True):
            raise ValueError("a rule must set something")
        if self.false_report is not None and self.first_contact_resolution is not None:
            raise ValueError("a false report is not resolved at first contact: set only one of the two")
        return self


class RuleModel(_Model):
    id: Id
    description: str = ""
    when: dict[FactField, Annotated[ConditionModel, BeforeValidator(_condition)]] = Field(min_length=1)
    then: ThenModel


class CloseModel(_Model):
    require_root_cause: bool = True
    require_resolution: bool = True
    require_restoration_time: bool = True
    satisfaction_survey: bool = True
    auto_close_after: Duration | None = None


class ServiceDomainModel(_Model):
    """An external TMF656 service problem manager and the service problems it takes (docs/policy.md)."""

    id: Id
    endpoint: Annotated[str, Field(min_length=1, max_length=2000)]
    categories: list[str] = []
    service_specifications: list[str] = []

    @model_validator(mode="after")
    def _check(self) -> ServiceDomainModel:
        url = urlsplit(self.endpoint)
        if url.scheme not in {"http", "https"} or not url.netloc:
            raise ValueError(f"a service domain's endpoint is an http(s) URL, not {self.endpoint!r}")
        if not self.categories and not self.service_specifications:
            raise ValueError("a service domain names categories, service_specifications or both")
        return self


class MajorProblemModel(_Model):
    """Which reports are major problems (Review Major Problem, 1.3.7.6.7, is mandatory before they close)."""

    priorities: list[str] = []
    severities: list[str] = []
    outage_masters: bool = False


class RestorationModel(_Model):
    """Correct & Recover Customer Problem (1.3.7.6): docs/restoration.md."""

    validate_before_clear: bool = False
    failed_task: str | None = Field(
        default="Re-diagnose and isolate after a failed restoration", max_length=200
    )
    infeasible_task: str | None = Field(
        default="Re-plan the restoration: not feasible as planned", max_length=200
    )
    replan_skill: str | None = None
    workaround_known_error: bool = True
    workaround_change_request: bool = True
    major_problem: MajorProblemModel = MajorProblemModel()


class DelegationModel(_Model):
    """What Track & Manage delegates (service problems, partner tickets): docs/policy.md."""

    on_cancel: Literal["cancel", "delink"] = "cancel"
    poll_interval: Annotated[Duration, AfterValidator(_positive)] = timedelta(minutes=15)
    silence_notify: Id | None = None
    auto_submit: bool = True
    service_domains: list[ServiceDomainModel] = []


class IntakeModel(_Model):
    """When Track & Manage starts for a new report: docs/policy.md."""

    start_tracking: Literal["at_creation", "in_worker"] = "at_creation"


class DefaultsModel(_Model):
    sla_class: str
    category: str
    impact: Level = "medium"
    urgency: Level = "medium"


class PolicyModel(_Model):
    version: Annotated[str, BeforeValidator(_version), Field(min_length=1)]
    valid_from: Annotated[datetime, BeforeValidator(_valid_from)]
    description: str = ""
    priorities: list[PriorityModel] = Field(min_length=1)
    priority_matrix: dict[Level, dict[Level, str]]
    defaults: DefaultsModel
    calendars: list[CalendarModel] = Field(min_length=1)
    sla_classes: list[SlaClassModel] = Field(min_length=1)
    jeopardy_thresholds: list[Annotated[int, Field(ge=1, le=100)]] = Field(min_length=1)
    escalation: list[EscalationModel] = []
    notification_lists: list[NotificationListModel] = []
    skills: list[SkillModel] = []
    workgroups: list[WorkgroupModel] = Field(min_length=1)
    categories: list[CategoryModel] = Field(min_length=1)
    diagnosis_rules: list[RuleModel] = []
    progress_updates: dict[str, Duration | None]
    close: CloseModel = CloseModel()
    delegation: DelegationModel = DelegationModel()
    restoration: RestorationModel = RestorationModel()
    intake: IntakeModel = IntakeModel()


def policy_as_json(policy: Policy) -> dict[str, Any]:
    """The policy as plain JSON values: durations in ISO 8601, working hours as HH:MM."""
    return cast(dict[str, Any], _plain(policy))


def _plain(value: object) -> object:
    if isinstance(value, WeeklyInterval):
        return {
            "weekday": DAYS[value.weekday],
            "start": _clock(value.start),
            "end": _clock(value.end, end=True),
        }
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset):
        return sorted(str(v) for v in value)
    if isinstance(value, Iterable) and not isinstance(value, str):
        return [_plain(v) for v in value]
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, re.Pattern):
        return value.pattern
    return value


def _clock(wall: time, *, end: bool = False) -> str:
    return "24:00" if end and wall == time(0) else wall.strftime("%H:%M")


def iso_duration(value: timedelta) -> str:
    """`PT4H`, `P5D`, `PT30S`: the ISO 8601 form the policy files use."""
    days, rest = divmod(value.total_seconds(), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{n:g}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return ("P" + (f"{days:g}D" if days else "") + (f"T{time}" if time else "")) if days or time else "PT0S"
