"""The SLA clock of one customer problem report: committed restoration time in business time, with pauses.

It answers Monitor Customer Problem Jeopardy Status (eTOM 1.3.7.3.4): how much of the target is used,
when a jeopardy threshold falls due and whether the commitment is breached. Pure values; every change
returns a new clock, so a new target or calendar never loses the pauses already recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from troubleflow.domain.calendar import (
    ZERO,
    BusinessCalendar,
    add_working_time,
    aware_utc,
    working_time_between,
)
from troubleflow.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Pause:
    """A clock stop [start, end) while the report waits on the customer (TMF status pending).

    `end` None: the clock is still stopped.
    """

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", aware_utc(self.start, "pause start"))
        if self.end is not None:
            object.__setattr__(self, "end", aware_utc(self.end, "pause end"))
            if self.end < self.start:
                raise InvalidInput(f"a pause cannot end ({self.end}) before it starts ({self.start})")


@dataclass(frozen=True, slots=True)
class SlaClock:
    """The committed restoration time `target` (business time of `calendar`) running from `started`."""

    calendar: BusinessCalendar
    started: datetime
    target: timedelta
    pauses: tuple[Pause, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "started", aware_utc(self.started, "started"))
        object.__setattr__(self, "pauses", tuple(self.pauses))
        if self.target <= ZERO:
            raise InvalidInput(f"the SLA target must be positive, not {self.target}", field="target")
        _check_pauses(self.started, self.pauses)

    @property
    def paused(self) -> bool:
        """Whether the clock is stopped now (the last pause has no end)."""
        return bool(self.pauses) and self.pauses[-1].end is None


def _check_pauses(started: datetime, pauses: tuple[Pause, ...]) -> None:
    last = started
    for index, item in enumerate(pauses):
        if not isinstance(item, Pause):
            raise InvalidInput(f"pause {index} is not a Pause: {item!r}", field="pauses")
        if item.start < last:
            raise InvalidInput(
                f"pause {index} starts at {item.start.isoformat()}, before the previous event at "
                f"{last.isoformat()}: pauses must be ordered, not overlap and not precede the start",
                field="pauses",
            )
        if item.end is None:
            if index != len(pauses) - 1:
                raise InvalidInput("only the last pause may still be open", field="pauses")
        else:
            last = item.end


def _last_event(clock: SlaClock) -> datetime:
    """The latest instant the clock's history mentions (start, or the end of the last pause)."""
    if not clock.pauses:
        return clock.started
    last = clock.pauses[-1]
    return last.start if last.end is None else last.end


def pause(clock: SlaClock, at: datetime) -> SlaClock:
    """The clock stopped at `at` (the report went pending)."""
    at = aware_utc(at, "at")
    if clock.paused:
        raise InvalidInput("the SLA clock is already paused")
    if at < _last_event(clock):
        raise InvalidInput(f"cannot pause at {at.isoformat()}, before the clock's last event")
    return replace(clock, pauses=(*clock.pauses, Pause(at)))


def resume(clock: SlaClock, at: datetime) -> SlaClock:
    """The clock running again from `at` (the customer answered)."""
    at = aware_utc(at, "at")
    if not clock.paused:
        raise InvalidInput("the SLA clock is not paused")
    opened = clock.pauses[-1]
    if at < opened.start:
        raise InvalidInput(
            f"cannot resume at {at.isoformat()}, before the pause at {opened.start.isoformat()}"
        )
    return replace(clock, pauses=(*clock.pauses[:-1], Pause(opened.start, at)))


def with_target(clock: SlaClock, target: timedelta) -> SlaClock:
    """The same clock (start and pauses kept) measured against a new committed restoration time."""
    return replace(clock, target=target)


def with_calendar(clock: SlaClock, calendar: BusinessCalendar) -> SlaClock:
    """The same clock (start and pauses kept) counted in another business calendar."""
    return replace(clock, calendar=calendar)


def _running(clock: SlaClock) -> Iterator[tuple[datetime, datetime | None]]:
    """The stretches [a, b) in which the clock runs; b None: still running, without end."""
    begin = clock.started
    for item in clock.pauses:
        yield begin, item.start
        if item.end is None:
            return
        begin = item.end
    yield begin, None


def elapsed(clock: SlaClock, now: datetime) -> timedelta:
    """Business time consumed from `started` until `now`, pauses excluded (zero before `started`).

    Only running stretches are summed, so a pause over non-working hours takes away just the business
    time inside it and nothing is subtracted twice.
    """
    now = aware_utc(now, "now")
    total = ZERO
    for begin, end in _running(clock):
        if begin >= now:
            break
        total += working_time_between(clock.calendar, begin, now if end is None else min(end, now))
    return total


def fraction(clock: SlaClock, now: datetime) -> float:
    """The share of the target consumed at `now` (1.0 = breach; may exceed 1)."""
    return elapsed(clock, now) / clock.target


def remaining(clock: SlaClock, now: datetime) -> timedelta:
    """Business time left until breach at `now`; signed: negative is how far past the commitment it is."""
    return clock.target - elapsed(clock, now)


def is_breached(clock: SlaClock, now: datetime) -> bool:
    """Whether the committed restoration time is used up at `now` (from deadline(clock, 100) on)."""
    return elapsed(clock, now) >= clock.target


def share(target: timedelta, percent: int) -> timedelta:
    """`percent` % of `target`, rounded to the microsecond (half to even, as timedelta division does)."""
    if isinstance(percent, bool) or not isinstance(percent, int) or percent < 0:
        raise InvalidInput(f"a percentage is a non-negative integer, not {percent!r}", field="percent")
    return target * percent / 100


def deadline(clock: SlaClock, percent: int) -> datetime | None:
    """The earliest instant at which `percent` % of the target is consumed (100 = the committed time).

    Computed with the pauses recorded so far, so a threshold already passed gives the past instant it
    was reached. While the clock is paused, a threshold not reached before the pause began has no
    instant yet (it depends on when the clock resumes): None.
    """
    left = share(clock.target, percent)
    for begin, end in _running(clock):
        if end is None:
            return add_working_time(clock.calendar, begin, left)
        available = working_time_between(clock.calendar, begin, end)
        if left <= available:
            return add_working_time(clock.calendar, begin, left)
        left -= available
    return None
