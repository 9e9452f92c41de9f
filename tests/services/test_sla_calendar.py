"""Business-hours arithmetic: weekends, holidays, DST in two hemispheres' worth of rules, night shifts.

Every expectation is an exact UTC instant worked out by hand from the local rules; no database needed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.models import BusinessCalendar
from saleor_support_plugin.services.sla import (
    business_calendar_validate,
    business_minutes_add,
    business_seconds_between,
)

WEEKDAYS_9_TO_5 = {str(day): [["09:00", "17:00"]] for day in range(5)}
EVERY_DAY_9_TO_5 = {str(day): [["09:00", "17:00"]] for day in range(7)}
ALWAYS = {str(day): [["00:00", "24:00"]] for day in range(7)}
NIGHT_SHIFT = {str(day): [["00:00", "06:00"], ["22:00", "24:00"]] for day in range(7)}


def calendar(weekly=WEEKDAYS_9_TO_5, tz: str = "UTC", holidays: list[str] | None = None) -> BusinessCalendar:
    return BusinessCalendar(name="test", timezone=tz, weekly_hours=weekly, holidays=holidays or [])


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def add(cal: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    return business_minutes_add(calendar=cal, start=start, minutes=minutes)


def between(cal: BusinessCalendar, start: datetime, end: datetime) -> int:
    return business_seconds_between(calendar=cal, start=start, end=end)


# -- weekends, holidays, inside / outside hours -------------------------------------------------------


def test_friday_afternoon_plus_an_hour_lands_on_monday_morning():
    # given Friday 16:30 UTC on a Mon–Fri 09–17 calendar
    cal, start = calendar(), utc(2026, 11, 20, 16, 30)

    # when 60 business minutes are added
    due = add(cal, start, 60)

    # then the weekend is skipped
    assert due == utc(2026, 11, 23, 9, 30)
    assert between(cal, start, due) == 3600


def test_holiday_is_skipped():
    # given Thursday 24 December 16:00 with Friday 25 December a holiday
    cal = calendar(holidays=["2026-12-25"])

    # when two business hours are added
    due = add(cal, utc(2026, 12, 24, 16, 0), 120)

    # then Thursday gives one hour, the holiday and the weekend none, Monday the second hour
    assert due == utc(2026, 12, 28, 10, 0)


def test_holiday_is_a_local_date():
    # given Tokyo hours with 2026-11-23 (a Monday, local) a holiday
    cal = calendar(tz="Asia/Tokyo", holidays=["2026-11-23"])

    # when an hour is added on Sunday 23:30 UTC, which is already Monday 08:30 in Tokyo
    due = add(cal, utc(2026, 11, 22, 23, 30), 60)

    # then the whole local Monday is skipped: Tuesday 10:00 JST
    assert due == utc(2026, 11, 24, 1, 0)


def test_start_inside_hours_counts_from_start():
    # given Monday 10:00
    # when 30 minutes are added
    # then the clock runs straight on
    assert add(calendar(), utc(2026, 11, 23, 10, 0), 30) == utc(2026, 11, 23, 10, 30)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (utc(2026, 11, 23, 7, 0), utc(2026, 11, 23, 9, 30)),  # before opening
        (utc(2026, 11, 23, 17, 0), utc(2026, 11, 24, 9, 30)),  # at closing
        (utc(2026, 11, 23, 21, 0), utc(2026, 11, 24, 9, 30)),  # evening
        (utc(2026, 11, 21, 12, 0), utc(2026, 11, 23, 9, 30)),  # Saturday
    ],
)
def test_start_outside_hours_counts_from_next_opening(start, expected):
    # given a start outside business hours
    # when 30 minutes are added
    due = add(calendar(), start, 30)

    # then the clock starts at the next opening
    assert due == expected


def test_target_ending_exactly_at_closing_time_is_that_closing_time():
    # given Monday 16:00
    # when an hour is added
    # then it is due at 17:00 the same day, not at the next opening
    assert add(calendar(), utc(2026, 11, 23, 16, 0), 60) == utc(2026, 11, 23, 17, 0)


def test_zero_minutes_is_the_start_itself():
    # given a start outside hours
    start = utc(2026, 11, 21, 12, 0)

    # when nothing is added
    # then nothing moves
    assert add(calendar(), start, 0) == start


def test_result_is_utc_aware_for_a_non_utc_start():
    # given a start with a +01:00 offset
    start = datetime(2026, 11, 23, 11, 0, tzinfo=ZoneInfo("Europe/Oslo"))

    # when minutes are added
    due = add(calendar(), start, 30)

    # then the answer is in UTC
    assert due.tzinfo is UTC
    assert due == utc(2026, 11, 23, 10, 30)


# -- DST: Europe/Oslo (2026-03-29 / 2026-10-25) and America/New_York (2026-03-08 / 2026-11-01) -----------


@pytest.mark.parametrize(
    ("tz", "start", "expected"),
    [
        # Oslo spring forward: Saturday 12:00 CET (11:00Z) + 24 business hours = Sunday 12:00 CET-equivalent
        # in real time, i.e. 13:00 CEST on the wall = 11:00Z.
        ("Europe/Oslo", utc(2026, 3, 28, 11, 0), utc(2026, 3, 29, 11, 0)),
        # Oslo fall back: Saturday 12:00 CEST (10:00Z) + 24 h = Sunday 11:00 CET = 10:00Z.
        ("Europe/Oslo", utc(2026, 10, 24, 10, 0), utc(2026, 10, 25, 10, 0)),
        # New York spring forward: Saturday 12:00 EST (17:00Z) + 24 h = Sunday 13:00 EDT = 17:00Z.
        ("America/New_York", utc(2026, 3, 7, 17, 0), utc(2026, 3, 8, 17, 0)),
        # New York fall back: Saturday 12:00 EDT (16:00Z) + 24 h = Sunday 11:00 EST = 16:00Z.
        ("America/New_York", utc(2026, 10, 31, 16, 0), utc(2026, 11, 1, 16, 0)),
    ],
)
def test_always_open_calendar_counts_real_time_across_dst(tz, start, expected):
    # given a 24/7 calendar in a zone changing its clocks overnight
    cal = calendar(ALWAYS, tz=tz)

    # when 24 business hours are added across the change
    due = add(cal, start, 24 * 60)

    # then exactly 24 real hours pass
    assert due == expected
    assert between(cal, start, due) == 24 * 3600


@pytest.mark.parametrize(
    ("tz", "midnight", "next_midnight", "hours"),
    [
        ("Europe/Oslo", utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0), 23),
        ("Europe/Oslo", utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0), 25),
        ("America/New_York", utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 4, 0), 23),
        ("America/New_York", utc(2026, 11, 1, 4, 0), utc(2026, 11, 2, 5, 0), 25),
    ],
)
def test_always_open_dst_day_is_23_or_25_hours(tz, midnight, next_midnight, hours):
    # given a 24/7 calendar and the local midnights around a DST-change date
    cal = calendar(ALWAYS, tz=tz)

    # when the business time of that local day is measured
    seconds = between(cal, midnight, next_midnight)

    # then it is the real length of the day
    assert seconds == hours * 3600
    assert add(cal, midnight, hours * 60) == next_midnight


@pytest.mark.parametrize(
    ("tz", "opening", "closing"),
    [
        ("Europe/Oslo", utc(2026, 3, 29, 7, 0), utc(2026, 3, 29, 15, 0)),  # 09:00–17:00 CEST
        ("Europe/Oslo", utc(2026, 10, 25, 8, 0), utc(2026, 10, 25, 16, 0)),  # 09:00–17:00 CET
        ("America/New_York", utc(2026, 3, 8, 13, 0), utc(2026, 3, 8, 21, 0)),  # 09:00–17:00 EDT
        ("America/New_York", utc(2026, 11, 1, 14, 0), utc(2026, 11, 1, 22, 0)),  # 09:00–17:00 EST
    ],
)
def test_nine_to_five_on_a_dst_change_date_is_eight_hours(tz, opening, closing):
    # given a 09–17 every-day calendar and the DST-change date itself
    cal = calendar(EVERY_DAY_9_TO_5, tz=tz)

    # when 8 business hours are added from the previous evening
    due = add(cal, opening - timedelta(hours=12), 8 * 60)

    # then the DST date's hours are 09:00–17:00 local, 8 real hours
    assert due == closing
    assert between(cal, opening - timedelta(hours=1), closing + timedelta(hours=1)) == 8 * 3600


@pytest.mark.parametrize(
    ("tz", "friday", "monday"),
    [
        # Friday 16:00 CET (15:00Z) + 2 h → Monday 10:00 CEST (08:00Z): the offset changed over the weekend.
        ("Europe/Oslo", utc(2026, 3, 27, 15, 0), utc(2026, 3, 30, 8, 0)),
        # Friday 16:00 CEST (14:00Z) + 2 h → Monday 10:00 CET (09:00Z).
        ("Europe/Oslo", utc(2026, 10, 23, 14, 0), utc(2026, 10, 26, 9, 0)),
        # Friday 16:00 EST (21:00Z) + 2 h → Monday 10:00 EDT (14:00Z).
        ("America/New_York", utc(2026, 3, 6, 21, 0), utc(2026, 3, 9, 14, 0)),
        # Friday 16:00 EDT (20:00Z) + 2 h → Monday 10:00 EST (15:00Z).
        ("America/New_York", utc(2026, 10, 30, 20, 0), utc(2026, 11, 2, 15, 0)),
    ],
)
def test_weekday_calendar_across_a_dst_weekend(tz, friday, monday):
    # given a Mon–Fri 09–17 local calendar and Friday 16:00 local before a DST weekend
    cal = calendar(WEEKDAYS_9_TO_5, tz=tz)

    # when 2 business hours are added
    due = add(cal, friday, 120)

    # then it is Monday 10:00 local, in the new offset
    assert due == monday
    assert between(cal, friday, monday) == 2 * 3600


def test_interval_starting_inside_the_spring_forward_gap_starts_when_clocks_jump():
    # given daily hours 02:30–04:00 New York; on 2026-03-08 02:30 does not exist (02:00 EST → 03:00 EDT)
    cal = calendar({str(day): [["02:30", "04:00"]] for day in range(7)}, tz="America/New_York")

    # when that date's hours are measured
    seconds = between(cal, utc(2026, 3, 8, 5, 0), utc(2026, 3, 8, 12, 0))

    # then they run from the jump (07:00Z = 03:00 EDT) to 04:00 EDT (08:00Z): one hour
    assert seconds == 3600
    assert add(cal, utc(2026, 3, 8, 5, 0), 1) == utc(2026, 3, 8, 7, 1)


def test_interval_in_the_repeated_fall_back_hour_covers_both_occurrences():
    # given daily hours 01:00–01:30 New York; on 2026-11-01 01:00–02:00 happens twice
    cal = calendar({str(day): [["01:00", "01:30"]] for day in range(7)}, tz="America/New_York")

    # when that date's hours are measured
    seconds = between(cal, utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 12, 0))

    # then they run from the first 01:00 (EDT, 05:00Z) to the second 01:30 (EST, 06:30Z)
    assert seconds == 90 * 60


# -- multiple intervals, night shift ------------------------------------------------------------------


def test_lunch_break_is_not_business_time():
    # given 09–12 and 13–17
    cal = calendar({str(day): [["09:00", "12:00"], ["13:00", "17:00"]] for day in range(5)})

    # when 90 minutes are added at 11:00
    due = add(cal, utc(2026, 11, 23, 11, 0), 90)

    # then the lunch hour is skipped
    assert due == utc(2026, 11, 23, 13, 30)


def test_night_shift_across_midnight():
    # given 22:00–24:00 and 00:00–06:00 every day
    cal = calendar(NIGHT_SHIFT)

    # when 3 h are added on Monday 21:00
    due = add(cal, utc(2026, 11, 23, 21, 0), 180)

    # then 22:00–24:00 and 00:00–01:00 are used
    assert due == utc(2026, 11, 24, 1, 0)
    assert between(cal, utc(2026, 11, 23, 21, 0), due) == 3 * 3600


def test_night_shift_from_the_morning_waits_for_the_evening():
    # given the night shift and a start at 05:30
    # when an hour is added
    due = add(calendar(NIGHT_SHIFT), utc(2026, 11, 23, 5, 30), 60)

    # then 30 minutes are used before 06:00 and 30 from 22:00
    assert due == utc(2026, 11, 23, 22, 30)


def test_touching_intervals_are_one():
    # given 09–12 and 12–17 (touching)
    cal = calendar({"0": [["12:00", "17:00"], ["09:00", "12:00"]]})

    # when 8 h are added on Monday 09:00
    # then the day is one 8 h span
    assert add(cal, utc(2026, 11, 23, 9, 0), 480) == utc(2026, 11, 23, 17, 0)


# -- between() is the inverse of add() ----------------------------------------------------------------


@pytest.mark.parametrize("tz", ["UTC", "Europe/Oslo", "America/New_York"])
def test_between_is_the_inverse_of_add(tz):
    # given a calendar with lunch breaks and holidays, and starts spread across a DST year
    cal = calendar(
        {str(day): [["08:00", "12:00"], ["12:30", "16:45"]] for day in range(5)} | {"5": [["10:00", "14:00"]]},
        tz=tz,
        holidays=["2026-03-30", "2026-11-02", "2026-12-25"],
    )
    starts = [utc(2026, 1, 1, 0, 0) + timedelta(hours=37 * i, minutes=13 * i) for i in range(240)]

    for index, start in enumerate(starts):
        minutes = (index * 97) % 5000 + 1
        # when minutes are added, then measured back
        due = add(cal, start, minutes)

        # then exactly those minutes lie between start and due, and due is not later than needed
        assert between(cal, start, due) == minutes * 60, (start, minutes, due)
        assert between(cal, start, due - timedelta(seconds=1)) == minutes * 60 - 1


def test_many_days_is_fast():
    # given a weekday calendar and a target a year of business time away
    cal = calendar(WEEKDAYS_9_TO_5, tz="Europe/Oslo")
    start = utc(2026, 1, 5, 8, 0)  # Monday 09:00 CET

    # when 261 business days × 8 h are added
    began = time.perf_counter()
    due = add(cal, start, 261 * 8 * 60)
    elapsed = time.perf_counter() - began

    # then it is the closing time of the 261st weekday (259 left in 2026, then 1 and 4 January 2027),
    # reached quickly: the walk is per day, not per minute
    assert due == utc(2027, 1, 4, 16, 0)
    assert elapsed < 0.5


# -- validation and pathological calendars ------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekly", "tz", "holidays", "field"),
    [
        (WEEKDAYS_9_TO_5, "Mars/Olympus_Mons", [], "timezone"),
        (WEEKDAYS_9_TO_5, "../../etc/passwd", [], "timezone"),
        (WEEKDAYS_9_TO_5, "", [], "timezone"),
        ({"0": [["9:00", "17:00"]]}, "UTC", [], "weekly_hours"),
        ({"0": [["09:00", "25:00"]]}, "UTC", [], "weekly_hours"),
        ({"0": [["09:60", "17:00"]]}, "UTC", [], "weekly_hours"),
        ({"0": [["17:00", "09:00"]]}, "UTC", [], "weekly_hours"),
        ({"0": [["09:00", "09:00"]]}, "UTC", [], "weekly_hours"),
        ({"0": [["24:00", "24:00"]]}, "UTC", [], "weekly_hours"),
        ({"0": [["09:00", "13:00"], ["12:00", "17:00"]]}, "UTC", [], "weekly_hours"),
        ({"7": [["09:00", "17:00"]]}, "UTC", [], "weekly_hours"),
        ({"0": ["09:00-17:00"]}, "UTC", [], "weekly_hours"),
        ([["09:00", "17:00"]], "UTC", [], "weekly_hours"),
        (WEEKDAYS_9_TO_5, "UTC", ["25/12/2026"], "holidays"),
        (WEEKDAYS_9_TO_5, "UTC", "2026-12-25", "holidays"),
    ],
)
def test_invalid_calendar_is_refused(weekly, tz, holidays, field):
    # given a calendar with one bad setting
    cal = BusinessCalendar(name="bad", timezone=tz, weekly_hours=weekly, holidays=holidays)

    # when it is validated or used
    with pytest.raises(PermanentError) as validated:
        business_calendar_validate(calendar=cal)
    with pytest.raises(PermanentError):
        add(cal, utc(2026, 11, 23, 9, 0), 10)

    # then the error says what is wrong
    assert validated.value.code == SupportErrorCode.INVALID
    assert validated.value.field == field


def test_calendar_without_hours_raises_instead_of_looping():
    # given a calendar with no hours at all
    cal = calendar({})

    # when minutes are added
    with pytest.raises(PermanentError) as raised:
        add(cal, utc(2026, 11, 23, 9, 0), 1)

    # then it is a clear permanent error; measuring still works (there is simply no business time)
    assert raised.value.code == SupportErrorCode.INVALID
    assert "no working hours" in raised.value.message
    assert between(cal, utc(2026, 11, 23), utc(2026, 12, 23)) == 0


def test_calendar_closed_by_holidays_for_over_a_year_raises():
    # given Mondays only, and every Monday for two years a holiday
    first = datetime(2026, 11, 23).date()
    mondays = [(first + timedelta(weeks=week)).isoformat() for week in range(110)]
    cal = calendar({"0": [["09:00", "17:00"]]}, holidays=mondays)

    # when minutes are added
    with pytest.raises(PermanentError) as raised:
        add(cal, utc(2026, 11, 23, 9, 0), 1)

    # then the walk stops with an error rather than searching for years
    assert raised.value.field == "holidays"


def test_naive_datetimes_are_refused():
    # given a naive start
    # when used
    # then refused
    with pytest.raises(PermanentError):
        add(calendar(), datetime(2026, 11, 23, 9, 0), 1)
