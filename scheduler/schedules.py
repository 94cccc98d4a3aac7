"""When a job runs: every N seconds, or daily at a local time. Each schedule answers when it
fires next and when it last should have fired, so catch-up needs no scheduler memory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger


@dataclass(frozen=True, slots=True)
class Every:
    """A pass every ``seconds``; nothing to catch up (the next pass does the work)."""

    seconds: int

    def trigger(self) -> BaseTrigger:
        return IntervalTrigger(seconds=self.seconds)

    def describe(self) -> str:
        return f"every {self.seconds} s"

    def due_slot(self, now: datetime) -> datetime | None:
        return None

    def next_after(self, now: datetime, last_started: datetime | None) -> datetime:
        if last_started is None:
            return now
        return max(now, last_started + timedelta(seconds=self.seconds))


@dataclass(frozen=True, slots=True)
class Daily:
    """Once a day at ``at`` in ``zone``. A day whose time passed while no process ran the
    jobs is caught up at the next start, once."""

    at: time
    zone: str

    def trigger(self) -> BaseTrigger:
        return CronTrigger(hour=self.at.hour, minute=self.at.minute, timezone=self.zone)

    def describe(self) -> str:
        return f"daily {self.at:%H:%M} {self.zone}"

    def due_slot(self, now: datetime) -> datetime:
        """The latest scheduled instant at or before ``now``."""
        zone = ZoneInfo(self.zone)
        local = now.astimezone(zone)
        today = datetime.combine(local.date(), self.at, tzinfo=zone)
        if today > local:
            today = datetime.combine(local.date() - timedelta(days=1), self.at, tzinfo=zone)
        return today

    def next_after(self, now: datetime, last_started: datetime | None) -> datetime:
        return self.due_slot(now) + timedelta(days=1)


Schedule = Every | Daily
