"""Every timed job of Kefu, registered in one place under a fixed id.

A job is a plain async function of a :class:`JobContext` (storage, settings, an injected
clock) and one :class:`Job` entry below; adding a job is adding one entry. Each job is
idempotent, so a retry, a catch-up or `kefu jobs run` never does the work twice.
"""

from __future__ import annotations

from datetime import time, timedelta

from bot.settings import Settings
from scheduler.execute import Job, JobContext
from scheduler.points_expiry import write_off_lapsed_points
from scheduler.retention import purge_expired
from scheduler.schedules import Daily, Every
from scheduler.sla import check_deadlines

POINTS_EXPIRY = "points-expiry"
RETENTION_PURGE = "retention-purge"
SLA_CHECK = "sla-check"


async def expire_points(context: JobContext) -> str:
    written = await write_off_lapsed_points(sessions=context.sessions,
                                            settings=context.settings, clock=context.clock)
    return f"{written} expire entries"


async def purge_retention(context: JobContext) -> str:
    report = await purge_expired(context.sessions, settings=context.settings,
                                 clock=context.clock)
    return f"{report.messages_deleted} messages, {report.outbox_deleted} outbox rows deleted"


async def check_sla(context: JobContext) -> str:
    report = await check_deadlines(context.sessions, settings=context.settings,
                                   clock=context.clock)
    return f"{report.warned} warnings, {report.escalated} escalations"


def all_jobs(settings: Settings) -> list[Job]:
    """The jobs and when they run (daily ones in the default time zone of the settings)."""
    zone = settings.app.default_timezone
    return [
        Job(POINTS_EXPIRY, expire_points, Daily(time(0, 15), zone)),
        Job(RETENTION_PURGE, purge_retention, Daily(time(3, 30), zone)),
        # A pass takes well under a second; a short hold lets a new leader go on at once
        # when the old one died during a pass.
        Job(SLA_CHECK, check_sla, Every(settings.scheduler.sla_check_seconds),
            hold=timedelta(seconds=max(60, 2 * settings.scheduler.sla_check_seconds))),
    ]


def job_by_id(settings: Settings, job_id: str) -> Job | None:
    for job in all_jobs(settings):
        if job.id == job_id:
            return job
    return None
