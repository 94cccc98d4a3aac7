"""Runs the registered jobs inside the server's event loop, in the one process that leads.

Every ``leader_check_seconds`` a process that does not lead tries the leader lock; the one
that holds it checks it still does. Becoming leader starts APScheduler with the jobs and
catches up daily runs missed while no process led; losing the lock stops them at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core import metrics
from bot.core.storage.db import transaction
from bot.features.proactive.greetings import Planner
from bot.settings import Settings
from scheduler import state
from scheduler.execute import Clock, Job, JobContext, RunOutcome, process_name, run_job
from scheduler.jobs import all_jobs
from scheduler.leader import LeaderLock, lock_for
from scheduler.schedules import Daily

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class JobService:
    """Leader election plus the APScheduler of the leading process."""

    def __init__(self, jobs: Sequence[Job], context: JobContext, lock: LeaderLock, *,
                 check_seconds: float, owner: str | None = None) -> None:
        self.jobs = list(jobs)
        self.context = context
        self.owner = owner or process_name()
        self._lock = lock
        self._check_seconds = check_seconds
        self._scheduler: AsyncIOScheduler | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._catch_up_task: asyncio.Task[list[RunOutcome]] | None = None
        self.leading = False

    async def start(self) -> None:
        """Tries the lock once now (so start-up says who leads), then keeps checking."""
        await self._check()
        if not self.leading:
            log.warning("%s already runs the timed jobs of this database; this process "
                        "serves requests only and takes over if that one stops",
                        self._lock.holder_hint())
        self._loop_task = asyncio.create_task(self._keep_checking(), name="scheduler-leader")

    async def stop(self) -> None:
        for task in (self._loop_task, self._catch_up_task):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await task
        self._step_down()
        await self._lock.release()

    async def _keep_checking(self) -> None:
        while True:
            await asyncio.sleep(self._check_seconds)
            try:
                await self._check()
            except Exception:  # an election hiccup must not end the loop
                log.exception("scheduler leader check failed")

    async def _check(self) -> None:
        if self.leading:
            if not await self._lock.still_held():
                log.error("lost the scheduler lock; timed jobs stop in this process")
                self._step_down()
                return
            await self._note_leader()
        elif await self._lock.try_acquire():
            await self._lead()

    async def _lead(self) -> None:
        self.leading = True
        metrics.SCHEDULER_LEADER.set(1)
        await self._note_leader()
        scheduler = AsyncIOScheduler(timezone=self.context.settings.app.default_timezone,
                                     job_defaults={"coalesce": True, "max_instances": 1,
                                                   "misfire_grace_time": 3600})
        for job in self.jobs:
            # The callable is a coroutine function, so APScheduler awaits it.
            scheduler.add_job(self._run_scheduled, job.schedule.trigger(), args=[job],
                              id=job.id, name=job.id, replace_existing=True)
        scheduler.start()
        self._scheduler = scheduler
        log.info("this process (%s) leads: %d timed jobs scheduled", self.owner,
                 len(self.jobs))
        self._catch_up_task = asyncio.create_task(self.catch_up(), name="scheduler-catch-up")

    def _step_down(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self.leading:
            metrics.SCHEDULER_LEADER.set(0)
        self.leading = False

    async def _note_leader(self) -> None:
        try:
            async with transaction(self.context.sessions) as session:
                await state.note_leader(session, owner=self.owner, now=self.context.clock())
        except Exception:  # only the record for people is late; the lock still decides
            log.warning("could not record the scheduler leader", exc_info=True)

    async def _run_scheduled(self, job: Job) -> RunOutcome:
        if not self.leading:
            return RunOutcome(job.id, "skipped", detail="not the leader")
        slot = (job.schedule.due_slot(self.context.clock())
                if isinstance(job.schedule, Daily) else None)
        return await run_job(job, self.context, owner=self.owner, slot=slot)

    async def catch_up(self) -> list[RunOutcome]:
        """Runs each daily job whose last scheduled time passed without a run, once: the
        slot is claimed in the database, so neither a restart nor another leader repeats
        it."""
        done = []
        for job in self.jobs:
            if not isinstance(job.schedule, Daily) or not self.leading:
                continue
            slot = job.schedule.due_slot(self.context.clock())
            async with self.context.sessions() as session:
                record = await state.get_state(session, job_id=job.id)
            if record is not None and record.last_slot is not None and record.last_slot >= slot:
                continue
            log.info("catching up %s (due %s)", job.id, slot.isoformat())
            done.append(await run_job(job, self.context, owner=self.owner, slot=slot))
        return done

    async def catch_up_done(self) -> list[RunOutcome]:
        """Waits for the catch-up started on becoming leader (tests, `kefu jobs`)."""
        if self._catch_up_task is None:
            return []
        return await self._catch_up_task

    def next_run(self, job_id: str) -> datetime | None:
        if self._scheduler is None:
            return None
        found = self._scheduler.get_job(job_id)
        return None if found is None else found.next_run_time


async def start_scheduler(
    *, sessions: async_sessionmaker[AsyncSession], settings: Settings, engine: AsyncEngine,
    clock: Clock = utc_now, jobs: Sequence[Job] | None = None, planner: Planner | None = None,
) -> JobService:
    """Starts leader election and, in the leading process, the jobs. Stop it with
    :meth:`JobService.stop`."""
    service = JobService(jobs if jobs is not None else all_jobs(settings),
                         JobContext(sessions=sessions, settings=settings, clock=clock,
                                    planner=planner),
                         make_lock(engine, settings),
                         check_seconds=settings.scheduler.leader_check_seconds)
    await service.start()
    return service


def make_lock(engine: AsyncEngine, settings: Settings) -> LeaderLock:
    return lock_for(engine, schema=settings.database.schema_name,
                    data_dir=Path(settings.app.data_dir))
