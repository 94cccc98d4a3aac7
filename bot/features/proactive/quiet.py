"""Quiet hours: a proactive message due inside them waits for their end, in local time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.features.proactive.settings import ProactiveSettings


def release_at(now: datetime, zone: ZoneInfo, settings: ProactiveSettings) -> datetime:
    """``now`` outside quiet hours; otherwise the moment they end (the next morning)."""
    local = now.astimezone(zone)
    if not settings.in_quiet_hours(local.timetz().replace(tzinfo=None)):
        return now
    end = settings.quiet_hours.end
    morning = datetime.combine(local.date(), end, tzinfo=zone)
    if local.time() >= end:
        morning = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=zone)
    return morning.astimezone(now.tzinfo)
