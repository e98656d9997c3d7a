"""Business calendar and SLA clock (eTOM 1.3.7.3.4): hand-computed cases, refusals and properties.

Times in comments are local wall time with the zone's abbreviation; assertions are in UTC. Berlin is
CET = UTC+1 in winter and CEST = UTC+2 in summer (2026: summer time 29 March .. 25 October). New York is
EST = UTC-5 / EDT = UTC-4 (2026: 8 March .. 1 November).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from troubleflow.domain.calendar import (
    BusinessCalendar,
    add_working_time,
    always,
    first_instant,
    weekly,
    working_time_between,
)
from troubleflow.domain.sla import (
    Pause,
    SlaClock,
    deadline,
    elapsed,
    fraction,
    is_breached,
    pause,
    remaining,
    resume,
    share,
    with_calendar,
    with_target,
)
from troubleflow.errors import InvalidInput

H = timedelta(hours=1)
MIN = timedelta(minutes=1)
OFFICE = ((time(8), time(18)),)
BERLIN_OFFICE = weekly("berlin office", "Europe/Berlin", OFFICE)
BERLIN_OFFICE_DE = weekly("berlin office DE", "Europe/Berlin", OFFICE, holiday_country="DE")
NEW_YORK_OFFICE = weekly("new york office", "America/New_York", ((time(9), time(17)),))


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def sundays(*intervals: tuple[time, time]) -> BusinessCalendar:
    return weekly("sunday nights", "Europe/Berlin", intervals, weekdays=(6,))


# --- hand-computed business-hours cases ---------------------------------------------------------------


def test_friday_evening_report_continues_monday_morning() -> None:
    # Fri 2026-11-20 17:30 CET = 16:30 UTC. 4h target: Fri 17:30-18:00 = 0.5h, weekend closed,
    # Mon 08:00 + 3.5h = Mon 11:30 CET = 10:30 UTC.
    start = utc(2026, 11, 20, 16, 30)
    assert add_working_time(BERLIN_OFFICE, start, 4 * H) == utc(2026, 11, 23, 10, 30)
    clock = SlaClock(BERLIN_OFFICE, start, 4 * H)
    assert deadline(clock, 100) == utc(2026, 11, 23, 10, 30)


def test_half_of_target_on_friday_evening_report_falls_monday_0930() -> None:
    # 50 % of 4h = 2h: Fri 0.5h + Mon 08:00 + 1.5h = Mon 09:30 CET = 08:30 UTC.
    clock = SlaClock(BERLIN_OFFICE, utc(2026, 11, 20, 16, 30), 4 * H)
    assert deadline(clock, 50) == utc(2026, 11, 23, 8, 30)


def test_target_ending_at_closing_time_is_closing_time_not_next_morning() -> None:
    # Fri 16:00 CET + 2h = Fri 18:00 CET = 17:00 UTC, the earliest instant with 2h consumed.
    assert add_working_time(BERLIN_OFFICE, utc(2026, 11, 20, 15), 2 * H) == utc(2026, 11, 20, 17)


def test_zero_duration_returns_start_unchanged_even_outside_working_hours() -> None:
    saturday = utc(2026, 11, 21, 3, 17, 5, 9)
    assert add_working_time(BERLIN_OFFICE, saturday, timedelta(0)) == saturday


def test_thirty_business_days_skip_easter_holidays() -> None:
    # 300h = 30 days of 10h from Mon 2026-03-02 08:00 CET (07:00 UTC). Without holidays: six full weeks,
    # Fri 2026-04-10 18:00 CEST = 16:00 UTC (summer time since 29 March). With DE holidays Good Friday
    # (Apr 3) and Easter Monday (Apr 6) two more days: Mon Apr 13, Tue Apr 14 18:00 CEST = 16:00 UTC.
    start = utc(2026, 3, 2, 7)
    assert add_working_time(BERLIN_OFFICE, start, 300 * H) == utc(2026, 4, 10, 16)
    assert add_working_time(BERLIN_OFFICE_DE, start, 300 * H) == utc(2026, 4, 14, 16)


# --- holidays -----------------------------------------------------------------------------------------


def test_christmas_eve_is_a_working_day_in_germany_nationally() -> None:
    german = holidays.country_holidays("DE", years=2026)
    assert date(2026, 12, 24) not in german
    assert date(2026, 12, 25) in german and date(2026, 12, 26) in german


def test_public_holidays_are_non_working_days() -> None:
    # Wed 2026-12-23 16:00 CET = 15:00 UTC. Wed 16-18 = 2h; Thu 24th works (10h).
    # 8h: 2h Wed + 6h Thu -> Thu 14:00 CET = 13:00 UTC.
    start = utc(2026, 12, 23, 15)
    assert add_working_time(BERLIN_OFFICE_DE, start, 8 * H) == utc(2026, 12, 24, 13)
    # 16h: 2h Wed + 10h Thu = 12h; Fri 25th and Sat 26th holidays, Sun closed; Mon 28th 08:00 + 4h
    # = 12:00 CET = 11:00 UTC. Without holidays Fri 25th would count: Fri 12:00 CET = 11:00 UTC.
    assert add_working_time(BERLIN_OFFICE_DE, start, 16 * H) == utc(2026, 12, 28, 11)
    assert add_working_time(BERLIN_OFFICE, start, 16 * H) == utc(2026, 12, 25, 11)
    assert working_time_between(BERLIN_OFFICE_DE, utc(2026, 12, 24, 20), utc(2026, 12, 28, 7)) == timedelta(0)


def test_operator_declared_closure_is_a_non_working_day() -> None:
    # As above, but the operator closes on the 24th: 2h Wed, Thu closed, Fri/Sat holidays, Sun closed,
    # Mon 28th 10h (12h), Tue 29th 08:00 + 4h = 12:00 CET = 11:00 UTC.
    closed = weekly(
        "closed 24th",
        "Europe/Berlin",
        OFFICE,
        holiday_country="DE",
        extra_holidays=frozenset({date(2026, 12, 24)}),
    )
    assert add_working_time(closed, utc(2026, 12, 23, 15), 16 * H) == utc(2026, 12, 29, 11)


def test_regional_holiday_follows_the_subdivision() -> None:
    # Epiphany, Tue 2026-01-06, is a holiday in Bavaria but not in Berlin: 0h vs 08:00-18:00 = 10h.
    bavaria = weekly("by", "Europe/Berlin", OFFICE, holiday_country="DE", holiday_subdivision="BY")
    berlin = weekly("be", "Europe/Berlin", OFFICE, holiday_country="DE", holiday_subdivision="BE")
    day = (utc(2026, 1, 5, 23), utc(2026, 1, 6, 23))  # local 2026-01-06 00:00 .. 24:00 CET
    assert working_time_between(bavaria, *day) == timedelta(0)
    assert working_time_between(berlin, *day) == 10 * H


# --- DST ----------------------------------------------------------------------------------------------


def test_24x7_calendar_counts_real_time_across_spring_forward() -> None:
    # Sat 2026-03-28 12:00 CET = 11:00 UTC; 24h of real time -> Sun 11:00 UTC = 13:00 CEST (the wall
    # clock skipped 02:00-03:00, so it shows 25h later).
    berlin = always(timezone="Europe/Berlin")
    assert add_working_time(berlin, utc(2026, 3, 28, 11), 24 * H) == utc(2026, 3, 29, 11)
    # Local day 29 March: 00:00 CET = 28th 23:00 UTC .. 30th 00:00 CEST = 29th 22:00 UTC = 23h.
    assert working_time_between(berlin, utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)) == 23 * H
    # Local day 25 October: 00:00 CEST = 24th 22:00 UTC .. 26th 00:00 CET = 25th 23:00 UTC = 25h.
    assert working_time_between(berlin, utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)) == 25 * H


def test_business_hours_across_fall_back_keep_ten_local_hours() -> None:
    # Fri 2026-10-23 08:00-18:00 CEST = 06:00-16:00 UTC; Mon 26th 08:00-18:00 CET = 07:00-17:00 UTC.
    assert working_time_between(BERLIN_OFFICE, utc(2026, 10, 23, 6), utc(2026, 10, 26, 17)) == 20 * H
    # Fri 17:00 CEST (15:00 UTC) + 2h: 1h Fri, 1h Mon -> Mon 09:00 CET = 08:00 UTC.
    assert add_working_time(BERLIN_OFFICE, utc(2026, 10, 23, 15), 2 * H) == utc(2026, 10, 26, 8)


def test_new_york_business_hours_across_both_dst_changes() -> None:
    # Spring: Fri 2026-03-06 16:00 EST = 21:00 UTC, 4h on 09-17: 1h Fri, 3h Mon -> Mon 9th 12:00 EDT
    # = 16:00 UTC.
    assert add_working_time(NEW_YORK_OFFICE, utc(2026, 3, 6, 21), 4 * H) == utc(2026, 3, 9, 16)
    # Fall: Fri 2026-10-30 16:00 EDT = 20:00 UTC -> Mon 2 Nov 12:00 EST = 17:00 UTC.
    assert add_working_time(NEW_YORK_OFFICE, utc(2026, 10, 30, 20), 4 * H) == utc(2026, 11, 2, 17)


def test_wall_time_in_spring_forward_gap_is_the_transition_instant() -> None:
    # Berlin jumps from 02:00 CET (01:00 UTC) to 03:00 CEST on 2026-03-29: 02:30 never shows, the first
    # instant at which the clock reads 02:30 or later is the jump itself, 01:00 UTC.
    berlin = ZoneInfo("Europe/Berlin")
    assert first_instant(berlin, datetime(2026, 3, 29, 2, 30)) == utc(2026, 3, 29, 1)
    # New York jumps at 02:00 EST = 07:00 UTC on 2026-03-08; Sydney at 02:00 AEST = 16:00 UTC the day before.
    assert first_instant(ZoneInfo("America/New_York"), datetime(2026, 3, 8, 2, 30)) == utc(2026, 3, 8, 7)
    assert first_instant(ZoneInfo("Australia/Sydney"), datetime(2026, 10, 4, 2, 30)) == utc(2026, 10, 3, 16)
    # Sundays 02:30-04:00: on the 29th 01:00 UTC .. 04:00 CEST = 02:00 UTC = 1h; a week earlier 1.5h.
    cal = sundays((time(2, 30), time(4)))
    assert working_time_between(cal, utc(2026, 3, 28), utc(2026, 3, 30)) == H
    assert working_time_between(cal, utc(2026, 3, 21), utc(2026, 3, 23)) == 1.5 * H


def test_interval_wholly_inside_spring_forward_gap_has_no_working_time() -> None:
    # Sundays 02:00-03:00 Berlin: on 2026-03-29 both ends are 01:00 UTC, nothing to work. 30 min from
    # Sat 28th therefore land on Sun 5 April 02:30 CEST = 00:30 UTC.
    cal = sundays((time(2), time(3)))
    assert working_time_between(cal, utc(2026, 3, 28), utc(2026, 3, 30)) == timedelta(0)
    assert add_working_time(cal, utc(2026, 3, 28, 12), 30 * MIN) == utc(2026, 4, 5, 0, 30)


def test_ambiguous_wall_time_on_fall_back_is_its_first_occurrence() -> None:
    # 2026-10-25 Berlin: 03:00 CEST (01:00 UTC) goes back to 02:00 CET. 02:30 is read with fold=0,
    # i.e. 02:30 CEST = 00:30 UTC. Sundays 02:30-03:30: 00:30 UTC .. 03:30 CET = 02:30 UTC = 2h real;
    # a week earlier (CEST) 1h.
    assert first_instant(ZoneInfo("Europe/Berlin"), datetime(2026, 10, 25, 2, 30)) == utc(2026, 10, 25, 0, 30)
    cal = sundays((time(2, 30), time(3, 30)))
    assert working_time_between(cal, utc(2026, 10, 24), utc(2026, 10, 26)) == 2 * H
    assert working_time_between(cal, utc(2026, 10, 17), utc(2026, 10, 19)) == H
    # Sundays 02:00-02:30 work only the first pass: 00:00-00:30 UTC, not the repeat 01:00-01:30 UTC.
    first_pass = sundays((time(2), time(2, 30)))
    assert working_time_between(first_pass, utc(2026, 10, 24), utc(2026, 10, 26)) == 30 * MIN
    assert working_time_between(first_pass, utc(2026, 10, 25, 1), utc(2026, 10, 25, 2)) == timedelta(0)


# --- midnight -----------------------------------------------------------------------------------------


def test_midnight_on_24x7_calendar_counts() -> None:
    # zammad#3180: 23:59 .. 00:01 is 2 minutes, not 1 and not 0.
    for cal in (always(), always(timezone="Europe/Berlin")):
        assert working_time_between(cal, utc(2026, 5, 4, 23, 59), utc(2026, 5, 5, 0, 1)) == 2 * MIN
    # The earliest instant with 1 minute consumed from 23:59 is midnight itself.
    assert add_working_time(always(), utc(2026, 5, 4, 23, 59), MIN) == utc(2026, 5, 5)


def test_interval_ending_at_time_zero_runs_until_midnight() -> None:
    # A night shift 22:00-24:00 then 00:00-02:00 local joins at midnight: 23:59 .. 00:01 UTC is 2 min,
    # and 22:00 .. 02:00 the next day is 4h.
    night = BusinessCalendar("night", "UTC", (((time(0), time(2)), (time(22), time(0))),) * 7)
    assert working_time_between(night, utc(2026, 5, 4, 23, 59), utc(2026, 5, 5, 0, 1)) == 2 * MIN
    assert working_time_between(night, utc(2026, 5, 4, 22), utc(2026, 5, 5, 2)) == 4 * H
    assert working_time_between(night, utc(2026, 5, 4), utc(2026, 5, 5)) == 4 * H


# --- SLA clock ----------------------------------------------------------------------------------------


def test_two_hours_pending_are_excluded_from_the_target() -> None:
    # 24/7, 8h from 09:00 UTC, paused 10:00-12:00: 1h before + 7h after 12:00 -> 19:00 UTC.
    clock = SlaClock(always(), utc(2026, 3, 2, 9), 8 * H, (Pause(utc(2026, 3, 2, 10), utc(2026, 3, 2, 12)),))
    assert deadline(clock, 100) == utc(2026, 3, 2, 19)
    assert elapsed(clock, utc(2026, 3, 2, 19)) == 8 * H


def test_pause_over_the_night_subtracts_only_business_hours_inside_it() -> None:
    # Mon 2026-11-23 16:00 CET (15:00 UTC), 4h. Paused Mon 17:00 CET .. Tue 10:00 CET holds
    # 1h (Mon 17-18) + 2h (Tue 08-10) = 3h of business time, not 17h. Before the pause 1h ran, so 3h
    # remain from Tue 10:00 -> Tue 13:00 CET = 12:00 UTC (without the pause: Tue 10:00 CET = 09:00 UTC).
    clock = SlaClock(BERLIN_OFFICE, utc(2026, 11, 23, 15), 4 * H)
    assert deadline(clock, 100) == utc(2026, 11, 24, 9)
    clock = resume(pause(clock, utc(2026, 11, 23, 16)), utc(2026, 11, 24, 9))
    assert deadline(clock, 100) == utc(2026, 11, 24, 12)
    assert elapsed(clock, utc(2026, 11, 24, 9)) == H
    assert elapsed(clock, utc(2026, 11, 24, 12)) == 4 * H


def test_deadline_is_none_while_paused_and_resume_moves_it_by_the_paused_business_time() -> None:
    # Mon 2026-11-23 08:00 CET (07:00 UTC), 8h -> Mon 16:00 CET. Paused Mon 12:00 CET .. Tue 09:00 CET:
    # 6h (Mon 12-18) + 1h (Tue 08-09) = 7h paused business time. 4h ran before; 4h from Tue 09:00 ->
    # Tue 13:00 CET = 12:00 UTC.
    clock = SlaClock(BERLIN_OFFICE, utc(2026, 11, 23, 7), 8 * H)
    before = deadline(clock, 100)
    assert before == utc(2026, 11, 23, 15)
    paused = pause(clock, utc(2026, 11, 23, 11))
    assert paused.paused
    assert deadline(paused, 100) is None
    assert deadline(paused, 25) == utc(2026, 11, 23, 9)  # 2h reached before the pause: its past instant
    resumed = resume(paused, utc(2026, 11, 24, 8))
    after = deadline(resumed, 100)
    assert after == utc(2026, 11, 24, 12)
    assert working_time_between(BERLIN_OFFICE, before, after) == 7 * H


def test_remaining_is_signed_and_breach_starts_at_the_committed_time() -> None:
    clock = SlaClock(always(), utc(2026, 3, 2, 9), H)
    assert remaining(clock, utc(2026, 3, 2, 9, 30)) == 30 * MIN
    assert fraction(clock, utc(2026, 3, 2, 9, 30)) == 0.5
    assert not is_breached(clock, utc(2026, 3, 2, 9, 59))
    assert is_breached(clock, utc(2026, 3, 2, 10)) and remaining(clock, utc(2026, 3, 2, 10)) == timedelta(0)
    assert remaining(clock, utc(2026, 3, 2, 11, 15)) == -75 * MIN
    assert fraction(clock, utc(2026, 3, 2, 11)) == 2.0
    assert elapsed(clock, utc(2026, 3, 2, 8)) == timedelta(0)  # before the start nothing has run


def test_new_target_or_calendar_keeps_accumulated_pause() -> None:
    # GLPI #15605: changing the SLA dropped the pause. Mon 2026-11-23 09:00 UTC, paused 10:00-12:00 UTC.
    # 24/7 with a 10h target: 1h before the pause + 9h after 12:00 -> 21:00 UTC.
    # Berlin office hours: runs 10:00-11:00 CET (1h), paused 11:00-13:00 CET, runs 13:00-18:00 (5h),
    # Tue 08:00 + 4h -> Tue 12:00 CET = 11:00 UTC.
    clock = SlaClock(
        always(), utc(2026, 11, 23, 9), 8 * H, (Pause(utc(2026, 11, 23, 10), utc(2026, 11, 23, 12)),)
    )
    retargeted = with_target(clock, 10 * H)
    assert retargeted.pauses == clock.pauses and retargeted.started == clock.started
    assert deadline(retargeted, 100) == utc(2026, 11, 23, 21)
    moved = with_calendar(retargeted, BERLIN_OFFICE)
    assert moved.pauses == clock.pauses
    assert deadline(moved, 100) == utc(2026, 11, 24, 11)


# --- refusals -----------------------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 3, 2, 9)
    with pytest.raises(InvalidInput):
        working_time_between(always(), naive, utc(2026, 3, 3))
    with pytest.raises(InvalidInput):
        add_working_time(always(), naive, H)
    with pytest.raises(InvalidInput):
        SlaClock(always(), naive, H)
    with pytest.raises(InvalidInput):
        Pause(utc(2026, 3, 2), naive)
    with pytest.raises(InvalidInput):
        pause(SlaClock(always(), utc(2026, 3, 2), H), naive)


def test_pauses_must_be_ordered_non_overlapping_and_after_the_start() -> None:
    start = utc(2026, 3, 2, 9)
    cases = [
        (Pause(utc(2026, 3, 2, 10), utc(2026, 3, 2, 12)), Pause(utc(2026, 3, 2, 11), utc(2026, 3, 2, 13))),
        (Pause(utc(2026, 3, 2, 10)), Pause(utc(2026, 3, 2, 11), utc(2026, 3, 2, 12))),
        (Pause(utc(2026, 3, 2, 8), utc(2026, 3, 2, 10)),),
    ]
    for pauses in cases:
        with pytest.raises(InvalidInput):
            SlaClock(always(), start, H, pauses)
    with pytest.raises(InvalidInput):
        Pause(utc(2026, 3, 2, 12), utc(2026, 3, 2, 11))


def test_pause_and_resume_refuse_the_wrong_state_or_order() -> None:
    clock = SlaClock(always(), utc(2026, 3, 2, 9), H)
    with pytest.raises(InvalidInput):
        resume(clock, utc(2026, 3, 2, 10))
    with pytest.raises(InvalidInput):
        pause(clock, utc(2026, 3, 2, 8))
    paused = pause(clock, utc(2026, 3, 2, 10))
    with pytest.raises(InvalidInput):
        pause(paused, utc(2026, 3, 2, 11))
    with pytest.raises(InvalidInput):
        resume(paused, utc(2026, 3, 2, 9, 30))
    resumed = resume(paused, utc(2026, 3, 2, 10))  # zero-length pause is fine
    with pytest.raises(InvalidInput):
        pause(resumed, utc(2026, 3, 2, 9, 59))
    assert deadline(resume(pause(resumed, utc(2026, 3, 2, 10)), utc(2026, 3, 2, 10)), 100) == utc(
        2026, 3, 2, 10
    )


def test_bad_targets_percentages_and_durations_are_refused() -> None:
    for target in (timedelta(0), -H):
        with pytest.raises(InvalidInput):
            SlaClock(always(), utc(2026, 3, 2), target)
    with pytest.raises(InvalidInput):
        with_target(SlaClock(always(), utc(2026, 3, 2), H), timedelta(0))
    with pytest.raises(InvalidInput):
        deadline(SlaClock(always(), utc(2026, 3, 2), H), -1)
    with pytest.raises(InvalidInput):
        add_working_time(always(), utc(2026, 3, 2), -MIN)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "time zone"),
        ({"timezone": "../etc/passwd"}, "time zone"),
        ({"holiday_country": "XX"}, "holiday region"),
        ({"holiday_country": "DE", "holiday_subdivision": "ZZ"}, "holiday region"),
        ({"holiday_subdivision": "BY"}, "needs a holiday country"),
        ({"hours": (((time(8), time(12)), (time(11), time(14))),) * 7}, "overlaps"),
        ({"hours": (((time(18), time(8)),),) * 7}, "start before"),
        ({"hours": (((time(8), time(8)),),) * 7}, "start before"),
        ({"hours": ((),) * 7}, "some working time"),
        ({"hours": (OFFICE,) * 5}, "per weekday"),
        ({"extra_holidays": frozenset({datetime(2026, 1, 1, tzinfo=UTC)})}, "dates"),
    ],
)
def test_invalid_calendars_are_refused(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"name": "bad", "timezone": "Europe/Berlin", "hours": (OFFICE,) * 7}
    with pytest.raises(InvalidInput, match=message):
        BusinessCalendar(**(fields | kwargs))  # type: ignore[arg-type]


def test_weekly_helper_refuses_bad_weekdays_and_aware_times() -> None:
    with pytest.raises(InvalidInput, match="weekday"):
        weekly("bad", "UTC", OFFICE, weekdays=(7,))
    with pytest.raises(InvalidInput, match="naive times"):
        weekly("bad", "UTC", ((time(8, tzinfo=UTC), time(18)),))


def test_arithmetic_past_year_9999_is_refused_not_crashed() -> None:
    with pytest.raises(InvalidInput, match="9999"):
        add_working_time(always(), utc(9999, 12, 31, 12), 24 * H)


def test_calendar_without_any_reachable_working_time_refuses_instead_of_looping() -> None:
    # Mondays only, every Monday for 11 years declared closed: the search gives up after ten years.
    mondays = frozenset(date(2026, 3, 2) + timedelta(weeks=n) for n in range(11 * 53))
    closed = weekly("closed", "UTC", OFFICE, weekdays=(0,), extra_holidays=mondays)
    with pytest.raises(InvalidInput, match="no working time"):
        add_working_time(closed, utc(2026, 3, 1), H)
    assert working_time_between(closed, utc(2026, 3, 1), utc(2036, 3, 1)) == timedelta(0)


# --- properties ---------------------------------------------------------------------------------------

ZONES = {
    "Europe/Berlin": ("DE", None),
    "America/New_York": ("US", "NY"),
    "Australia/Sydney": ("AU", "NSW"),
    "Asia/Kolkata": ("IN", None),
}
LUNCH_BREAK = ((time(8), time(12)), (time(13), time(18)))
NIGHT_SHIFT = ((time(0), time(2, 30)), (time(2, 45), time(4)), (time(22), time(0)))


def _shapes(zone: str, country: str, subdivision: str | None) -> list[BusinessCalendar]:
    return [
        always(timezone=zone),
        weekly("office", zone, LUNCH_BREAK, holiday_country=country, holiday_subdivision=subdivision),
        weekly("weekend", zone, ((time(9), time(17)),), weekdays=(5, 6)),
        # Night shift across midnight, with interval ends inside the 02:00-03:00 DST gaps and repeats.
        BusinessCalendar("night", zone, (NIGHT_SHIFT,) * 7),
    ]


CALENDARS = [cal for zone, region in ZONES.items() for cal in _shapes(zone, *region)]
HOUR_US = 3_600_000_000
PROPERTY = settings(max_examples=200, deadline=None)

calendars = st.sampled_from(CALENDARS)


def _transitions(zone: str) -> list[datetime]:
    """UTC midnights of the days on which `zone` changes its offset, 2020..2030 (a few ms to find)."""
    tz, found = ZoneInfo(zone), []
    day = utc(2020, 1, 1)
    while day.year <= 2030:
        if (day + timedelta(days=1)).astimezone(tz).utcoffset() != day.astimezone(tz).utcoffset():
            found.append(day)
        day += timedelta(days=1)
    return found


TRANSITIONS = sorted({day for zone in ZONES for day in _transitions(zone)})
uniform = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
# Half of the starts fall within two or three days of some DST change, where calendars usually break.
near_change = st.builds(
    lambda day, us: day + timedelta(microseconds=us),
    st.sampled_from(TRANSITIONS),
    st.integers(-48 * HOUR_US, 72 * HOUR_US),
)
instants = st.one_of(uniform, near_change)
# Up to 60 business days of 10 hours, in microseconds so that exactness is tested at full resolution.
durations = st.integers(0, 600 * HOUR_US).map(lambda us: timedelta(microseconds=us))
spans = st.integers(0, 72 * HOUR_US).map(lambda us: timedelta(microseconds=us))


@PROPERTY
@given(calendars, instants, durations)
def test_adding_working_time_then_measuring_it_gives_it_back(
    cal: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    end = add_working_time(cal, start, duration)
    assert end >= start and end.tzinfo is UTC
    assert working_time_between(cal, start, end) == duration


@PROPERTY
@given(calendars, instants, durations, durations)
def test_add_working_time_is_strictly_monotone_in_the_duration(
    cal: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    low, high = sorted((first, second))
    if low < high:
        assert add_working_time(cal, start, low) < add_working_time(cal, start, high)
    else:
        assert add_working_time(cal, start, low) == add_working_time(cal, start, high)


@PROPERTY
@given(calendars, instants, durations, durations)
def test_adding_in_two_steps_equals_adding_the_sum(
    cal: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    # Holds for every a, b >= 0, zero included: add() returns the *earliest* instant, so after the first
    # step lands on an interval end a positive second step continues at the next interval start exactly
    # like the one-step sum does, and a zero step stays put.
    assert add_working_time(cal, add_working_time(cal, start, first), second) == add_working_time(
        cal, start, first + second
    )


@PROPERTY
@given(calendars, instants, spans, spans)
def test_working_time_is_additive_over_adjacent_ranges(
    cal: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    middle, end = start + first, start + first + second
    whole = working_time_between(cal, start, end)
    assert whole == working_time_between(cal, start, middle) + working_time_between(cal, middle, end)
    # Business time is real time, never more; a 24/7 calendar counts all of it (23h/25h DST days too).
    assert whole <= end - start
    if cal.name == "24x7":
        assert whole == end - start
    # The earliest instant with that much business time is never after `end`.
    assert add_working_time(cal, start, whole) <= end


@PROPERTY
@given(st.sampled_from(sorted(ZONES)), instants)
def test_a_wall_time_maps_to_the_first_instant_the_clock_shows_it(zone: str, instant: datetime) -> None:
    # Wall times near DST changes: the local reading of an instant, and its UTC digits read as local
    # time (which often falls into a gap or a repeated hour).
    tz = ZoneInfo(zone)
    for wall in (instant.astimezone(tz).replace(tzinfo=None), instant.replace(tzinfo=None)):
        first = first_instant(tz, wall)
        assert first.astimezone(tz).replace(tzinfo=None) >= wall
        assert (first - timedelta(microseconds=1)).astimezone(tz).replace(tzinfo=None) < wall


@st.composite
def clocks(draw: st.DrawFn) -> SlaClock:
    cal = draw(calendars)
    started = draw(instants)
    target = timedelta(microseconds=draw(st.integers(1, 100 * HOUR_US)))
    pauses: list[Pause] = []
    at = started
    for _ in range(draw(st.integers(0, 3))):
        at += draw(spans)
        length = draw(spans)
        pauses.append(Pause(at, at + length))
        at += length
    return SlaClock(cal, started, target, tuple(pauses))


percents = st.integers(0, 150)


@PROPERTY
@given(clocks(), percents, percents)
def test_deadline_is_monotone_and_consumes_exactly_its_share(
    clock: SlaClock, first: int, second: int
) -> None:
    low, high = sorted((first, second))
    early, late = deadline(clock, low), deadline(clock, high)
    assert early is not None and late is not None
    assert early <= late
    assert elapsed(clock, late) == share(clock.target, high)
    assert abs(elapsed(clock, late) * 100 - clock.target * high) <= timedelta(microseconds=100)
    # Breach is reached exactly when the share reaches the target (high >= 100, or a share rounded up
    # to the target for a target of a few microseconds).
    assert is_breached(clock, late) == (share(clock.target, high) >= clock.target)


@PROPERTY
@given(clocks(), spans, spans, percents)
def test_adding_a_pause_never_moves_a_deadline_earlier(
    clock: SlaClock, gap: timedelta, length: timedelta, percent: int
) -> None:
    last = clock.pauses[-1].end if clock.pauses else clock.started
    assert last is not None
    paused = pause(clock, last + gap)
    before = deadline(clock, percent)
    assert before is not None
    while_paused = deadline(paused, percent)
    # While paused only a threshold already reached before the pause has an instant, and it is unchanged.
    if before <= last + gap:
        assert while_paused == before
    else:
        assert while_paused is None
    after = deadline(resume(paused, last + gap + length), percent)
    assert after is not None and after >= before
