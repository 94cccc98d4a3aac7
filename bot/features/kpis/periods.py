"""Review periods: calendar quarters and date ranges, in the retailer's time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.features.kpis.rows import Period

_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*Q([1-4])\s*$", re.IGNORECASE)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def quarter(text: str, zone: ZoneInfo) -> Period:
    """``2026Q4`` → 1 October 2026 00:00 to 1 January 2027 00:00 in ``zone``.

    Raises:
        ValueError: the text is not a quarter like 2026Q4.
    """
    match = _QUARTER.match(text)
    if match is None:
        raise ValueError(f"quarter {text!r} is not understood; write it like 2026Q4")
    year, number = int(match.group(1)), int(match.group(2))
    return _quarter(year, number, zone)


def _quarter(year: int, number: int, zone: ZoneInfo) -> Period:
    first = date(year, 3 * number - 2, 1)
    after = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return Period(_midnight(first, zone), _midnight(after, zone), f"{year}Q{number}")


def quarter_of(moment: datetime, zone: ZoneInfo) -> Period:
    local = moment.astimezone(zone).date()
    return _quarter(local.year, (local.month - 1) // 3 + 1, zone)


def date_range(first: date, last: date, zone: ZoneInfo) -> Period:
    """From the start of ``first`` to the end of ``last`` (both included) in ``zone``.

    Raises:
        ValueError: ``last`` is before ``first``.
    """
    if last < first:
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    return Period(_midnight(first, zone), _midnight(last + timedelta(days=1), zone),
                  f"{first.isoformat()}–{last.isoformat()}")


def previous(period: Period, zone: ZoneInfo) -> Period:
    """The quarter before a quarter; otherwise as many days just before the range."""
    match = _QUARTER.match(period.label)
    if match is not None:
        year, number = int(match.group(1)), int(match.group(2))
        return _quarter(year - 1, 4, zone) if number == 1 else _quarter(year, number - 1, zone)
    first = period.start.astimezone(zone).date()
    days = (period.end.astimezone(zone).date() - first).days
    return date_range(first - timedelta(days=days), first - timedelta(days=1), zone)


def weeks(period: Period, zone: ZoneInfo) -> list[Period]:
    """The period cut into weeks from its first day (the last one may be shorter)."""
    cuts: list[Period] = []
    start = period.start.astimezone(zone).date()
    end = period.end.astimezone(zone).date()
    while start < end:
        stop = min(start + timedelta(days=7), end)
        cuts.append(Period(_midnight(start, zone), _midnight(stop, zone), f"{start:%m-%d}"))
        start = stop
    return cuts
