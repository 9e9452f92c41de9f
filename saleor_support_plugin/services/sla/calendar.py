"""Business-hours arithmetic over a ``BusinessCalendar``.

A calendar is weekly local hours (weekday → ``[start, end)`` intervals, "HH:MM", end may be "24:00") in an
IANA time zone, minus holidays (local dates). Every computation walks local dates: the day's intervals are
built in local wall time for that date and only then converted to UTC, so a 09:00–17:00 day is 8 h on a
DST-change date too, while a 00:00–24:00 day is 23 h or 25 h of real time there.

Wall times that do not exist (the spring-forward gap) move forward to the instant the clocks changed;
ambiguous wall times (fall-back) let an interval start at the first occurrence and end at the second,
so an interval covers every instant whose wall time lies inside it.

Work is O(days walked), never O(minutes), and every walk is bounded: a calendar without any hours, or
with holidays covering more than a year, raises ``PermanentError`` instead of looping.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.models import BusinessCalendar

ONE_DAY = timedelta(days=1)
ZERO = timedelta(0)
# A single computation never walks further than this (ten years of dates) …
MAX_DAYS = 3660
# … nor past this many consecutive dates without any business hours (holidays, closed weekdays).
MAX_EMPTY_DAYS = 400
_DAY_CACHE_SIZE = 20_000
_HHMM = re.compile(r"^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$")

Span = tuple[datetime, datetime]


def _invalid(message: str, field: str) -> PermanentError:
    return PermanentError(SupportErrorCode.INVALID, message, field=field)


def _parse_minute(value: object, *, weekday: int) -> int:
    match = _HHMM.match(value) if isinstance(value, str) else None
    if match is None:
        raise _invalid(f"weekday {weekday}: {value!r} is not a time of day in HH:MM", "weekly_hours")
    hours, minutes = (match.group(1), match.group(2)) if match.group(1) is not None else (match.group(3), "00")
    return int(hours) * 60 + int(minutes)


def _parse_weekly(raw: object) -> tuple[tuple[tuple[int, int], ...], ...]:
    if not isinstance(raw, dict):
        raise _invalid("weekly hours must map weekday (0 = Monday … 6) to a list of [start, end]", "weekly_hours")
    days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for key, spans in raw.items():
        try:
            weekday = int(key)
        except (TypeError, ValueError):
            raise _invalid(f"{key!r} is not a weekday number (0 = Monday … 6)", "weekly_hours") from None
        if not 0 <= weekday <= 6:
            raise _invalid(f"{key!r} is not a weekday number (0 = Monday … 6)", "weekly_hours")
        if not isinstance(spans, list | tuple):
            raise _invalid(f"weekday {weekday}: expected a list of [start, end]", "weekly_hours")
        for span in spans:
            if not isinstance(span, list | tuple) or len(span) != 2:
                raise _invalid(f"weekday {weekday}: {span!r} is not a [start, end] pair", "weekly_hours")
            start, end = _parse_minute(span[0], weekday=weekday), _parse_minute(span[1], weekday=weekday)
            if start == 24 * 60 or end <= start:
                raise _invalid(f"weekday {weekday}: {span[0]}–{span[1]} must end after it starts", "weekly_hours")
            days[weekday].append((start, end))
    merged: list[tuple[tuple[int, int], ...]] = []
    for weekday, spans in enumerate(days):
        spans.sort()
        out: list[tuple[int, int]] = []
        for start, end in spans:
            if out and start < out[-1][1]:
                raise _invalid(f"weekday {weekday}: intervals overlap", "weekly_hours")
            if out and start == out[-1][1]:
                out[-1] = (out[-1][0], end)  # touching intervals are one
            else:
                out.append((start, end))
        merged.append(tuple(out))
    return tuple(merged)


def _parse_holidays(raw: object) -> frozenset[date]:
    if raw in (None, ""):
        return frozenset()
    if not isinstance(raw, list | tuple):
        raise _invalid("holidays must be a list of YYYY-MM-DD dates", "holidays")
    out = set()
    for value in raw:
        try:
            out.add(date.fromisoformat(value))
        except (TypeError, ValueError):
            raise _invalid(f"holiday {value!r} is not a YYYY-MM-DD date", "holidays") from None
    return frozenset(out)


def _parse_zone(name: object) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise _invalid(f"{name!r} is not a time zone name", "timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _invalid(f"unknown time zone {name!r}", "timezone") from None


class CompiledCalendar:
    """A validated calendar plus a cache of each local date's business intervals in UTC."""

    __slots__ = ("tz", "weekly", "holidays", "has_hours", "_days")

    def __init__(self, *, tz: ZoneInfo, weekly: tuple[tuple[tuple[int, int], ...], ...], holidays: frozenset[date]):
        self.tz = tz
        self.weekly = weekly
        self.holidays = holidays
        self.has_hours = any(weekly)
        self._days: dict[int, tuple[Span, ...]] = {}

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def day(self, local: date) -> tuple[Span, ...]:
        """The business intervals of one local date, in UTC, ordered and non-overlapping."""
        key = local.toordinal()
        spans = self._days.get(key)
        if spans is None:
            spans = self._build_day(local)
            if len(self._days) >= _DAY_CACHE_SIZE:
                self._days.clear()
            self._days[key] = spans
        return spans

    def _build_day(self, local: date) -> tuple[Span, ...]:
        if local in self.holidays:
            return ()
        out: list[Span] = []
        for start_minute, end_minute in self.weekly[local.weekday()]:
            start = self._to_utc(local, start_minute, fold=0)
            end = self._to_utc(local, end_minute, fold=1)
            if out and start < out[-1][1]:
                start = out[-1][1]
            if end > start:
                out.append((start, end))
        return tuple(out)

    def _to_utc(self, local: date, minute: int, *, fold: int) -> datetime:
        if minute == 24 * 60:
            local, minute = local + ONE_DAY, 0
        wall = datetime.combine(local, time(minute // 60, minute % 60))
        moment = wall.replace(tzinfo=self.tz, fold=fold).astimezone(UTC)
        if moment.astimezone(self.tz).replace(tzinfo=None) == wall:
            return moment
        # In the spring-forward gap: the wall time never happens; use the instant the clocks jumped.
        before = wall.replace(tzinfo=self.tz, fold=1).astimezone(UTC)  # earlier than the jump
        after = wall.replace(tzinfo=self.tz, fold=0).astimezone(UTC)  # at or after the jump
        target = after.astimezone(self.tz).utcoffset()
        low, high = int(before.timestamp()), int(after.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, UTC).astimezone(self.tz).utcoffset() == target:
                high = middle
            else:
                low = middle
        return datetime.fromtimestamp(high, UTC)


@lru_cache(maxsize=256)
def _compile(zone: str, weekly_json: str, holidays: tuple[str, ...]) -> CompiledCalendar:
    return CompiledCalendar(
        tz=_parse_zone(zone), weekly=_parse_weekly(json.loads(weekly_json)), holidays=_parse_holidays(list(holidays))
    )


def calendar_compile(calendar: BusinessCalendar) -> CompiledCalendar:
    """Validate and compile (cached by content, so an edited calendar is never served stale)."""
    holidays = calendar.holidays or []
    if not isinstance(holidays, list | tuple) or not all(isinstance(day, str | date) for day in holidays):
        _parse_holidays(holidays)  # raises the precise error
    holiday_key = tuple(sorted(day.isoformat() if isinstance(day, date) else day for day in holidays))
    try:
        weekly_json = json.dumps(calendar.weekly_hours, sort_keys=True)
    except (TypeError, ValueError):
        raise _invalid("weekly hours must be JSON", "weekly_hours") from None
    return _compile(str(calendar.timezone), weekly_json, holiday_key)


def business_calendar_validate(*, calendar: BusinessCalendar) -> None:
    """Raise ``PermanentError(INVALID)`` for a bad time zone, time of day, interval, or holiday."""
    calendar_compile(calendar)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _invalid(f"{name} must be a timezone-aware datetime", name)
    return moment.astimezone(UTC)


def _no_hours() -> PermanentError:
    return _invalid("the business calendar has no working hours at all", "weekly_hours")


def _no_hours_for_long(local: date) -> PermanentError:
    return _invalid(f"the business calendar has no hours for over {MAX_EMPTY_DAYS} days around {local}", "holidays")


def add_business_time(cal: CompiledCalendar, start: datetime, amount: timedelta) -> datetime:
    """The UTC instant at which ``amount`` of business time after ``start`` has elapsed."""
    start = _aware(start, "start")
    if amount < ZERO:
        raise _invalid("business time to add must not be negative", "minutes")
    if amount == ZERO:
        return start
    if not cal.has_hours:
        raise _no_hours()
    remaining = amount
    local = cal.local_date(start) - ONE_DAY  # yesterday's intervals can reach past local midnight
    empty_run = 0
    for _ in range(MAX_DAYS):
        spans = cal.day(local)
        for span_start, span_end in spans:
            if span_end <= start:
                continue
            begin = max(span_start, start)
            available = span_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        empty_run = 0 if spans else empty_run + 1
        if empty_run > MAX_EMPTY_DAYS:
            raise _no_hours_for_long(local)
        local += ONE_DAY
    raise _invalid(f"the target lies more than {MAX_DAYS} days ahead", "minutes")


def subtract_business_time(cal: CompiledCalendar, end: datetime, amount: timedelta) -> datetime:
    """The UTC instant from which ``amount`` of business time runs up to ``end`` (the mirror of add)."""
    end = _aware(end, "end")
    if amount < ZERO:
        raise _invalid("business time to subtract must not be negative", "minutes")
    if amount == ZERO:
        return end
    if not cal.has_hours:
        raise _no_hours()
    remaining = amount
    local = cal.local_date(end) + ONE_DAY
    empty_run = 0
    for _ in range(MAX_DAYS):
        spans = cal.day(local)
        for span_start, span_end in reversed(spans):
            if span_start >= end:
                continue
            finish = min(span_end, end)
            available = finish - span_start
            if remaining <= available:
                return finish - remaining
            remaining -= available
        empty_run = 0 if spans else empty_run + 1
        if empty_run > MAX_EMPTY_DAYS:
            raise _no_hours_for_long(local)
        local -= ONE_DAY
    raise _invalid(f"the start lies more than {MAX_DAYS} days back", "minutes")


def business_time_between(cal: CompiledCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time inside ``[start, end)``; zero when ``end <= start``."""
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        return ZERO
    total = ZERO
    local, last = cal.local_date(start) - ONE_DAY, cal.local_date(end) + ONE_DAY
    while local <= last:
        for span_start, span_end in cal.day(local):
            overlap = min(span_end, end) - max(span_start, start)
            if overlap > ZERO:
                total += overlap
        local += ONE_DAY
    return total


def business_minutes_add(*, calendar: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    """UTC-aware datetime at which ``minutes`` business minutes after ``start`` have elapsed.

    A start outside business hours counts from the next opening; a result landing exactly on a closing
    time is that closing time (not the next opening).
    """
    return add_business_time(calendar_compile(calendar), start, timedelta(minutes=minutes))


def business_seconds_between(*, calendar: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Whole business seconds in ``[start, end)`` (0 when ``end <= start``)."""
    return int(business_time_between(calendar_compile(calendar), start, end) // timedelta(seconds=1))
