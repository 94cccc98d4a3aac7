"""Every timed job of Kefu, registered in one place under a fixed id.

Jobs are plain async functions taking their dependencies and a clock, so tests call them
directly with a fixed time. Each is idempotent: several `kefu serve` processes may each run
the scheduler without doing the work twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import Kefu
from bot.proactive.wiring import planner_for
from scheduler.campaigns import send_due_campaigns
from scheduler.greetings import send_greetings
from scheduler.points_expiry import write_off_lapsed_points
from scheduler.points_reminders import remind_expiring_points
from scheduler.retention import purge_expired
from scheduler.sla import check_deadlines
from scheduler.surveys import send_surveys

POINTS_EXPIRY = "points-expiry"
RETENTION_PURGE = "retention-purge"
SLA_CHECK = "sla-check"
GREETINGS = "greetings"
POINTS_REMINDERS = "points-reminders"
CAMPAIGNS = "campaigns"
SURVEYS = "surveys"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    run: Callable[[], Awaitable[Any]]
    trigger: Any


def jobs(kefu: Kefu, clock: Clock = utc_now) -> list[Job]:
    """The jobs and when they run (in the default time zone of the settings)."""
    zone = kefu.settings.app.default_timezone
    found: list[Job] = [
        Job(POINTS_EXPIRY,
            lambda: write_off_lapsed_points(sessions=kefu.sessions, settings=kefu.settings,
                                            clock=clock),
            CronTrigger(hour=0, minute=15, timezone=zone)),
        Job(RETENTION_PURGE,
            lambda: purge_expired(kefu.sessions, settings=kefu.settings, clock=clock),
            CronTrigger(hour=3, minute=30, timezone=zone)),
        Job(SLA_CHECK,
            lambda: check_deadlines(kefu.sessions, settings=kefu.settings, clock=clock),
            IntervalTrigger(minutes=1)),
    ]
    planner = planner_for(kefu)

    async def greetings() -> int:
        return await send_greetings(sessions=kefu.sessions, planner=planner, clock=clock)

    # Every few minutes: each zone is greeted once its local time passes proactive.send_at.
    found.append(Job(GREETINGS, greetings, IntervalTrigger(minutes=5)))

    async def points_reminders() -> int:
        return await remind_expiring_points(sessions=kefu.sessions, planner=planner,
                                            clock=clock)

    found.append(Job(POINTS_REMINDERS, points_reminders, IntervalTrigger(minutes=15)))

    async def due_campaigns() -> int:
        return await send_due_campaigns(sessions=kefu.sessions, planner=planner, clock=clock)

    # Campaigns start within this interval of their time; a crashed one resumes here too.
    found.append(Job(CAMPAIGNS, due_campaigns, IntervalTrigger(seconds=30)))

    async def surveys() -> int:
        return await send_surveys(sessions=kefu.sessions, planner=planner, clock=clock)

    found.append(Job(SURVEYS, surveys, IntervalTrigger(minutes=15)))
    return found
