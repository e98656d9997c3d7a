"""Business calendars: when the committed restoration time of a customer problem runs (eTOM 1.3.7.3.4).

Working hours are local wall-clock intervals per weekday in an IANA time zone, minus public holidays
(`holidays` library) and operator-declared closures; the arithmetic is exact to the microsecond.

Conventions, in one place because every helpdesk gets them wrong somewhere:

* An interval `(start, end)` is half-open `[start, end)` in local time. `end == time(0)` means 24:00, the
  midnight that ends the day, so `(time(0), time(0))` is the whole day and the 24/7 calendar is that
  interval on every weekday. Consecutive days then join without a gap or an overlap at midnight.
* A local wall time becomes the *first instant at which the local clock shows that time or later*:
  an ambiguous time (fall-back) is its first occurrence, i.e. `fold=0`; a time that does not exist
  (spring-forward gap) is the end of the gap, the transition instant. Plain `fold=0` would put a gap time
  *after* wall times that follow the gap and make intervals overlap or turn inside out; the rule chosen
  is monotone, so working intervals stay ordered and disjoint and working time is real elapsed time.
  Hence a 24/7 calendar counts 23 or 25 hours on DST days, and 08:00-18:00 is 10 real hours on any day
  whose 08:00-18:00 contains no transition.
* Holidays are local calendar dates; a holiday (national or regional, or one of `extra_holidays`) is a
  non-working day entirely.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from troubleflow.errors import InvalidInput

Interval = tuple[time, time]
WeeklyHours = tuple[tuple[Interval, ...], ...]

ZERO = timedelta(0)
ONE_DAY = timedelta(days=1)
MIDNIGHT = time(0)
WHOLE_DAY: tuple[Interval, ...] = ((MIDNIGHT, MIDNIGHT),)
# A search that finds no working time for this many consecutive days would otherwise never end
# (e.g. every working day declared closed); ten years is far beyond any committed restoration time.
SEARCH_HORIZON_DAYS = 3660


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Working hours per weekday (index 0 = Monday .. 6 = Sunday) in `timezone`, minus holidays.

    `hours` is normalised on construction: each day's intervals sorted by start.
    """

    name: str
    timezone: str
    hours: WeeklyHours
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    extra_holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        _check_timezone(self.timezone)
        _check_holiday_region(self.holiday_country, self.holiday_subdivision)
        # Frozen dataclass: normalise through object.__setattr__ so equal calendars compare and hash equal.
        object.__setattr__(self, "hours", _normalise_hours(self.hours))
        object.__setattr__(self, "extra_holidays", _normalise_dates(self.extra_holidays))

    @property
    def zone(self) -> ZoneInfo:
        """The IANA zone (ZoneInfo caches instances, so this is a dictionary lookup)."""
        return ZoneInfo(self.timezone)

    def is_holiday(self, day: date) -> bool:
        """Whether the local date `day` is closed (public holiday or declared closure)."""
        if day in self.extra_holidays:
            return True
        if self.holiday_country is None:
            return False
        return day in _public_holidays(self.holiday_country, self.holiday_subdivision, day.year)


def always(
    name: str = "24x7",
    *,
    timezone: str = "UTC",
    holiday_country: str | None = None,
    holiday_subdivision: str | None = None,
    extra_holidays: frozenset[date] = frozenset(),
) -> BusinessCalendar:
    """A 24/7 calendar: every instant is working time (unless holidays are named)."""
    return BusinessCalendar(
        name, timezone, (WHOLE_DAY,) * 7, holiday_country, holiday_subdivision, extra_holidays
    )


def weekly(
    name: str,
    timezone: str,
    intervals: tuple[Interval, ...],
    *,
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4),
    holiday_country: str | None = None,
    holiday_subdivision: str | None = None,
    extra_holidays: frozenset[date] = frozenset(),
) -> BusinessCalendar:
    """The same `intervals` on each of `weekdays` (default Monday to Friday), nothing on other days."""
    for day in weekdays:
        if not 0 <= day <= 6:
            raise InvalidInput(f"a weekday is 0 (Monday) .. 6 (Sunday), not {day}", field="weekdays")
    hours = tuple(intervals if day in weekdays else () for day in range(7))
    return BusinessCalendar(name, timezone, hours, holiday_country, holiday_subdivision, extra_holidays)


def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInput(f"unknown IANA time zone {name!r}", field="timezone") from None


def _check_holiday_region(country: str | None, subdivision: str | None) -> None:
    if country is None:
        if subdivision is not None:
            raise InvalidInput("a holiday subdivision needs a holiday country", field="holiday_subdivision")
        return
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as exc:
        raise InvalidInput(f"unknown holiday region: {exc}", field="holiday_country") from None


def _end_offset(end: time) -> timedelta:
    """An interval end as an offset from local midnight; time(0) is 24:00."""
    offset = _offset(end)
    return ONE_DAY if offset == ZERO else offset


def _offset(moment: time) -> timedelta:
    return timedelta(
        hours=moment.hour, minutes=moment.minute, seconds=moment.second, microseconds=moment.microsecond
    )


def _normalise_hours(hours: WeeklyHours) -> WeeklyHours:
    if len(hours) != 7:
        raise InvalidInput("hours needs one tuple of intervals per weekday (Monday .. Sunday)", field="hours")
    result = tuple(_normalise_day(weekday, day) for weekday, day in enumerate(hours))
    if not any(result):
        raise InvalidInput("a business calendar needs some working time in the week", field="hours")
    return result


def _normalise_day(weekday: int, intervals: tuple[Interval, ...]) -> tuple[Interval, ...]:
    checked: list[Interval] = []
    for interval in intervals:
        if len(interval) != 2 or not all(isinstance(t, time) and t.tzinfo is None for t in interval):
            raise InvalidInput(f"weekday {weekday}: an interval is two naive times, not {interval!r}")
        start, end = interval
        if _offset(start) >= _end_offset(end):
            raise InvalidInput(f"weekday {weekday}: interval {start}-{end} must start before it ends")
        checked.append((start, end))
    checked.sort(key=lambda pair: _offset(pair[0]))
    for (_, prev_end), (start, end) in pairwise(checked):
        if _end_offset(prev_end) > _offset(start):
            raise InvalidInput(f"weekday {weekday}: interval {start}-{end} overlaps the one before it")
    return tuple(checked)


def _normalise_dates(days: frozenset[date]) -> frozenset[date]:
    # datetime is a subclass of date; a datetime here would never equal a local date and be ignored.
    if not all(isinstance(day, date) and not isinstance(day, datetime) for day in days):
        raise InvalidInput("extra_holidays are dates", field="extra_holidays")
    return frozenset(days)


@lru_cache(maxsize=512)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """Public holidays of one region and year; cached because every working day asks."""
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


def aware_utc(moment: datetime, what: str) -> datetime:
    """The instant in UTC; a naive datetime has no instant and is refused."""
    if not isinstance(moment, datetime):
        raise InvalidInput(f"{what} must be a datetime", field=what)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            f"{what} must be timezone-aware (UTC), not naive: {moment.isoformat()}", field=what
        )
    return moment.astimezone(UTC)


def first_instant(zone: ZoneInfo, wall: datetime) -> datetime:
    """The first UTC instant at which the clock of `zone` shows the naive `wall` time or later.

    Existing times: the `fold=0` reading (for an ambiguous time, its first occurrence). Times inside a
    spring-forward gap: the transition instant, where the clock jumps past them.
    """
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # In the gap, fold=0 and fold=1 read the wall time with the offsets before and after the change, so
    # the transition lies between them; bisect on the clock reading (a gap happens at most once a day).
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = min(instant, other), max(instant, other)
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) // 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high


@lru_cache(maxsize=65536)
def _day(cal: BusinessCalendar, day: date) -> tuple[datetime, tuple[tuple[datetime, datetime], ...]]:
    """The UTC instant where local `day` begins and its working intervals in UTC (empty ones dropped)."""
    zone = cal.zone
    midnight = datetime.combine(day, MIDNIGHT)
    opens = first_instant(zone, midnight)
    if cal.is_holiday(day):
        return opens, ()
    intervals: list[tuple[datetime, datetime]] = []
    for start, end in cal.hours[day.weekday()]:
        begin = first_instant(zone, midnight + _offset(start))
        finish = first_instant(zone, midnight + _end_offset(end))
        if begin < finish:  # an interval wholly inside a DST gap has no real time
            intervals.append((begin, finish))
    return opens, tuple(intervals)


def _days(
    cal: BusinessCalendar, first: date
) -> Iterator[tuple[datetime, tuple[tuple[datetime, datetime], ...]]]:
    """Each local day from `first` on. Local wall time maps monotonically to UTC (see module docstring),
    so the intervals come out ordered and disjoint across days as well."""
    day = first
    while True:
        try:
            current = _day(cal, day)
            day += ONE_DAY
        except OverflowError:
            raise InvalidInput("the computation runs past the end of the calendar (year 9999)") from None
        yield current


def _local_date(cal: BusinessCalendar, instant: datetime) -> date:
    return instant.astimezone(cal.zone).date()


def working_time_between(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time of `cal` inside [start, end); zero when end <= start."""
    start, end = aware_utc(start, "start"), aware_utc(end, "end")
    total = ZERO
    if end <= start:
        return total
    # Days before start's local date end no later than start (the first instant the clock shows that
    # date is at or before start), and a day that begins at or after `end` holds nothing before it.
    for opens, intervals in _days(cal, _local_date(cal, start)):
        if opens >= end:
            return total
        for begin, finish in intervals:
            low, high = max(begin, start), min(finish, end)
            if low < high:
                total += high - low
    raise AssertionError("unreachable: _days never ends")  # pragma: no cover


def add_working_time(cal: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The earliest instant t >= start with working_time_between(cal, start, t) == duration.

    The result therefore ends a stretch of working time: when it reaches the end of a working interval
    it is that end, not the start of the next one. Zero duration returns `start` (in UTC).
    """
    start = aware_utc(start, "start")
    if duration < ZERO:
        raise InvalidInput(f"a working time duration cannot be negative: {duration}", field="duration")
    if duration == ZERO:
        return start
    remaining = duration
    idle_days = 0
    for _, intervals in _days(cal, _local_date(cal, start)):
        idle_days += 1
        for begin, finish in intervals:
            if finish <= start:
                continue
            low = max(begin, start)
            if remaining <= finish - low:
                return low + remaining
            remaining -= finish - low
            idle_days = 0
        if idle_days > SEARCH_HORIZON_DAYS:
            raise InvalidInput(
                f"calendar {cal.name!r} has no working time in the {SEARCH_HORIZON_DAYS} days "
                f"after {start.isoformat()}"
            )
    raise AssertionError("unreachable: _days never ends")  # pragma: no cover
