"""Runs the registered jobs with APScheduler inside the server's event loop."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import Kefu
from scheduler.jobs import Clock, jobs, utc_now

log = logging.getLogger(__name__)


def start_scheduler(kefu: Kefu, clock: Clock = utc_now) -> AsyncIOScheduler:
    """Starts the jobs; a run that overlaps the previous one or comes late is merged."""
    scheduler = AsyncIOScheduler(timezone=kefu.settings.app.default_timezone,
                                 job_defaults={"coalesce": True, "max_instances": 1,
                                               "misfire_grace_time": 3600})
    for job in jobs(kefu, clock):
        scheduler.add_job(job.run, job.trigger, id=job.id, name=job.id, replace_existing=True)
    scheduler.start()
    log.info("scheduler started with %d jobs", len(scheduler.get_jobs()))
    return scheduler
