"""Every timed job of Kefu, registered in one place under a fixed id.

A job is a plain async function of a :class:`JobContext` (storage, settings, an injected
clock) and one :class:`Job` entry below; adding a job is adding one entry. Each job is
idempotent, so a retry, a catch-up or `kefu jobs run` never does the work twice.
"""

from __future__ import annotations

from datetime import time, timedelta

from bot.features.proactive.greetings import Planner
from bot.settings import Settings
from scheduler.campaigns import send_due_campaigns
from scheduler.execute import Job, JobContext
from scheduler.greetings import send_greetings
from scheduler.points_expiry import write_off_lapsed_points
from scheduler.points_reminders import remind_expiring_points
from scheduler.retention import purge_expired
from scheduler.schedules import Daily, Every
from scheduler.sla import check_deadlines
from scheduler.surveys import send_surveys

POINTS_EXPIRY = "points-expiry"
RETENTION_PURGE = "retention-purge"
SLA_CHECK = "sla-check"
GREETINGS = "greetings"
POINTS_REMINDERS = "points-reminders"
CAMPAIGNS = "campaigns"
SURVEYS = "surveys"


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


def _planner(context: JobContext) -> Planner:
    if context.planner is None:
        raise RuntimeError("proactive jobs need a planner in their JobContext")
    return context.planner


async def greet_members(context: JobContext) -> str:
    sent = await send_greetings(sessions=context.sessions, planner=_planner(context),
                                clock=context.clock)
    return f"{sent} greetings queued"


async def remind_points(context: JobContext) -> str:
    sent = await remind_expiring_points(sessions=context.sessions, planner=_planner(context),
                                        clock=context.clock)
    return f"{sent} reminders queued"


async def run_campaigns(context: JobContext) -> str:
    sent = await send_due_campaigns(sessions=context.sessions, planner=_planner(context),
                                    clock=context.clock)
    return f"{sent} campaign messages queued"


async def survey_purchases(context: JobContext) -> str:
    sent = await send_surveys(sessions=context.sessions, planner=_planner(context),
                              clock=context.clock)
    return f"{sent} surveys queued"


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
        # Every few minutes: each zone is greeted once its local time passes
        # proactive.send_at (and outside quiet hours).
        Job(GREETINGS, greet_members, Every(300)),
        Job(POINTS_REMINDERS, remind_points, Every(900)),
        # Campaigns start within this interval of their time; a crashed one resumes here too.
        Job(CAMPAIGNS, run_campaigns, Every(30), hold=timedelta(minutes=5)),
        Job(SURVEYS, survey_purchases, Every(900)),
    ]


def job_by_id(settings: Settings, job_id: str) -> Job | None:
    for job in all_jobs(settings):
        if job.id == job_id:
            return job
    return None
