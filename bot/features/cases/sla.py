"""SLA deadlines: computed in business time, paused while waiting on the customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.features.cases.calendar import BusinessCalendar
from bot.features.cases.settings import CasesSettings, Priority
from bot.settings import Settings

Urgency = Literal["ok", "soon", "warning", "breached", "paused", "met"]


def case_zone(settings: Settings, *, store_code: str | None,
              member_timezone: str | None) -> str:
    """The zone a case's clock runs in: its store's, else the member's, else the default."""
    if store_code:
        for store in settings.stores:
            if store.code == store_code:
                return store.timezone
    return member_timezone or settings.app.default_timezone


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def calendar_for(cases: CasesSettings) -> BusinessCalendar:
    return BusinessCalendar(cases.business_hours, cases.calendar)


@dataclass(frozen=True, slots=True)
class Deadlines:
    first_response: datetime
    resolution: datetime


def deadlines(cases: CasesSettings, calendar: BusinessCalendar, *, priority: Priority,
              channel: str, start: datetime, zone: ZoneInfo) -> Deadlines:
    """When the first answer and the resolution are due for a case opened at ``start``."""
    target = cases.target(priority, channel)
    return Deadlines(first_response=calendar.add(start, target.first_response, zone),
                     resolution=calendar.add(start, target.resolution, zone))


def minutes_left(calendar: BusinessCalendar, due: datetime, now: datetime,
                 zone: ZoneInfo) -> int:
    """Business minutes from ``now`` to ``due``; negative once it has passed."""
    if due <= now:
        # Overdue counts as overdue even when no business time has passed since.
        return min(-1, -calendar.between(due, now, zone))
    return calendar.between(now, due, zone)


def resume_due(calendar: BusinessCalendar, left: int, now: datetime, zone: ZoneInfo) -> datetime:
    """A paused deadline restarted at ``now`` with ``left`` business minutes to go."""
    if left <= 0:
        return now
    return calendar.add(now, left, zone)


def urgency(calendar: BusinessCalendar, *, due: datetime | None, now: datetime, zone: ZoneInfo,
            warn_before: int, target: int) -> Urgency:
    """How close a deadline is: the colour of its countdown in the console."""
    if due is None:
        return "paused"
    left = minutes_left(calendar, due, now, zone)
    if left < 0:
        return "breached"
    if left <= warn_before:
        return "warning"
    if left <= max(warn_before * 2, target // 4):
        return "soon"
    return "ok"
