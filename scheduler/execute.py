"""Runs one job the one way there is: claim it durably, run it, record and count the outcome.

The scheduler and `kefu jobs run` both come through :func:`run_job`. It never raises (but for
cancellation): a job that fails is logged with its traceback, recorded, counted, and simply
runs again at its next time; the scheduler and the other jobs go on.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import metrics
from bot.core.storage.db import transaction
from bot.settings import Settings
from scheduler import state
from scheduler.schedules import Schedule

if TYPE_CHECKING:
    from bot.features.proactive.greetings import Planner

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a job may use: storage, settings and the clock (tests pass a fixed one), and
    the proactive planner (greetings, reminders, campaigns, surveys) where they run."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    clock: Clock
    planner: Planner | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """A timed job: a plain async function of the context, and when it runs."""

    id: str
    run: Callable[[JobContext], Awaitable[object]]
    schedule: Schedule
    # How long a run may hold the job before another process may take it (a crashed run).
    hold: timedelta = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    job_id: str
    outcome: str  # ok | failed | skipped
    duration_ms: int = 0
    detail: str = ""


def process_name() -> str:
    """Who runs: host and pid, as `kefu jobs list` shows the leader."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def run_job(job: Job, context: JobContext, *, owner: str | None = None,
                  slot: datetime | None = None) -> RunOutcome:
    """Runs ``job`` once unless it is running elsewhere (or ``slot`` was already run)."""
    who = owner or process_name()
    try:
        async with transaction(context.sessions) as session:
            await state.ensure(session, job_id=job.id)
            if slot is not None and not await state.claim_slot(session, job_id=job.id,
                                                                slot=slot):
                return _skipped(job, f"the run of {slot.isoformat()} was done already")
            if not await state.claim_run(session, job_id=job.id, owner=who,
                                         now=context.clock(), hold=job.hold):
                # Raising rolls the slot claim back: the slot is still the other run's.
                raise _Busy
    except _Busy:
        return _skipped(job, "running in another process")
    except Exception:  # the database is down: count it, try at the next time
        log.exception("job %s could not start", job.id)
        metrics.JOB_RUNS.labels(job.id, state.FAILED).inc()
        return RunOutcome(job.id, state.FAILED, detail="could not start")
    started = time.perf_counter()
    error: str | None = None
    result: object = None
    try:
        result = await job.run(context)
    except Exception as exc:  # any failure of the job is recorded; the scheduler goes on
        log.exception("job %s failed", job.id)
        error = "".join(traceback.format_exception_only(exc)).strip()[-2000:]
    duration_ms = int((time.perf_counter() - started) * 1000)
    outcome = state.FAILED if error else state.OK
    now = context.clock()
    try:
        async with transaction(context.sessions) as session:
            await state.finish_run(session, job_id=job.id, owner=who, now=now,
                                   duration_ms=duration_ms, error=error,
                                   result=None if result is None else str(result))
    except Exception:  # the run happened; only its record is lost, and the hold lapses
        log.exception("job %s ran but its outcome could not be recorded", job.id)
    metrics.JOB_RUNS.labels(job.id, outcome).inc()
    if error is None:
        metrics.JOB_LAST_SUCCESS.labels(job.id).set(now.timestamp())
        log.info("job %s ok in %d ms: %s", job.id, duration_ms, result)
    return RunOutcome(job.id, outcome, duration_ms, error or str(result or ""))


class _Busy(Exception):
    """Another process holds the job."""


def _skipped(job: Job, why: str) -> RunOutcome:
    metrics.JOB_RUNS.labels(job.id, SKIPPED).inc()
    log.info("job %s skipped: %s", job.id, why)
    return RunOutcome(job.id, SKIPPED, detail=why)
