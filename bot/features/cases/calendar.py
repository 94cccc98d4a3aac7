"""Business time: workdays from weekends, Chinese public holidays and 调休 make-up workdays.

Which days are workdays, most trusted first: the operator's overrides in config, then
chinese-calendar (it knows the State Council's announcements, holidays and make-up workdays,
but only for the years it ships data for), then holidays.China (statutory holidays for any
year, no make-up workdays) on top of plain weekends. A year no library knows still works.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays

from bot.features.cases.settings import BusinessHours, CalendarOverrides

log = logging.getLogger(__name__)

# Never look further than this for open hours: a configuration that closes every day must
# not loop forever.
_HORIZON_DAYS = 3 * 366


@lru_cache(maxsize=64)
def _statutory_holidays(year: int) -> frozenset[date]:
    try:
        china = holidays.country_holidays("CN", years=year)
        return frozenset(china)
    except Exception:  # the library may reject far-off years; weekends still apply
        log.warning("no holiday data for %s; counting only weekends as days off", year)
        return frozenset()


def _announced_workday(day: date) -> bool | None:
    """chinese-calendar's answer, or ``None`` for a year it has no data for."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


class BusinessCalendar:
    """Workdays and opening hours; all arithmetic in the zone given per call."""

    __slots__ = ("_closed", "_hours", "_known", "_workdays")

    def __init__(self, hours: BusinessHours, overrides: CalendarOverrides) -> None:
        self._hours = hours
        self._closed = frozenset(overrides.closed_days)
        self._workdays = frozenset(overrides.workdays)
        # Answers per day: an SLA pass asks about the same few days for every case.
        self._known: dict[date, bool] = {}

    def is_workday(self, day: date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: date) -> bool:
        if day in self._closed:
            return False
        if day in self._workdays:
            return True
        announced = _announced_workday(day)
        if announced is not None:
            return announced
        return day.weekday() < 5 and day not in _statutory_holidays(day.year)

    def _window(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
        if not self.is_workday(day):
            return None
        return (_at(day, self._hours.start, zone), _at(day, self._hours.end, zone))

    def _windows(self, start: datetime, zone: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
        """Opening windows from the day of ``start`` on, clipped to begin at ``start``."""
        day = start.astimezone(zone).date()
        for offset in range(_HORIZON_DAYS):
            window = self._window(day + timedelta(days=offset), zone)
            if window is None or window[1] <= start:
                continue
            yield max(window[0], start), window[1]

    def is_open(self, at: datetime, zone: ZoneInfo) -> bool:
        window = self._window(at.astimezone(zone).date(), zone)
        return window is not None and window[0] <= at < window[1]

    def next_open(self, at: datetime, zone: ZoneInfo) -> datetime:
        """``at`` itself when open, else the next opening (``at`` if none is in sight)."""
        for opens, _closes in self._windows(at, zone):
            return opens
        return at

    def add(self, start: datetime, minutes: int, zone: ZoneInfo) -> datetime:
        """The moment ``minutes`` business minutes after ``start``."""
        left = timedelta(minutes=minutes)
        for opens, closes in self._windows(start, zone):
            if opens + left <= closes:
                return (opens + left).astimezone(UTC)
            left -= closes - opens
        # Nothing open within the horizon: fall back to wall-clock time rather than fail.
        return (start + timedelta(minutes=minutes)).astimezone(UTC)

    def subtract(self, end: datetime, minutes: int, zone: ZoneInfo) -> datetime:
        """The moment ``minutes`` business minutes before ``end`` (the reverse of :meth:`add`)."""
        left = timedelta(minutes=minutes)
        day = end.astimezone(zone).date()
        for offset in range(_HORIZON_DAYS):
            window = self._window(day - timedelta(days=offset), zone)
            if window is None or window[0] >= end:
                continue
            opens, closes = window[0], min(window[1], end)
            if closes - left >= opens:
                return (closes - left).astimezone(UTC)
            left -= closes - opens
        return (end - timedelta(minutes=minutes)).astimezone(UTC)

    def between(self, start: datetime, end: datetime, zone: ZoneInfo) -> int:
        """Whole business minutes from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        if end < start:
            return -self.between(end, start, zone)
        total = timedelta()
        for opens, closes in self._windows(start, zone):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return int(total.total_seconds() // 60)


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone)
