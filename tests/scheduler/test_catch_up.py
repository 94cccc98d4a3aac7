"""Catch-up: a daily job whose time passed while no Kefu ran runs once at the next start,
never twice (not after a restart, not in two processes at once)."""

from __future__ import annotations

import asyncio
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.app import Kefu
from bot.core.storage.db import transaction
from scheduler import state
from scheduler.execute import Job, JobContext, run_job
from scheduler.runner import JobService, make_lock
from scheduler.schedules import Daily
from tests.cases.helpers import Clock
from tests.scheduler.helpers import job_states

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_SLOT = datetime(2026, 11, 23, 0, 15, tzinfo=SHANGHAI)
TUESDAY_SLOT = datetime(2026, 11, 24, 0, 15, tzinfo=SHANGHAI)


class Counter:
    def __init__(self) -> None:
        self.runs = 0

    async def __call__(self, context: JobContext) -> int:
        self.runs += 1
        await asyncio.sleep(0.05)  # long enough for a concurrent start to overlap
        return self.runs


async def start_and_stop(kefu: Kefu, job: Job, clock: Clock) -> None:
    """One server life: start (catch-up included), then stop."""
    service = JobService([job], JobContext(kefu.sessions, kefu.settings, clock),
                         make_lock(kefu.engine, kefu.settings), check_seconds=60)
    await service.start()
    try:
        assert service.leading
        await service.catch_up_done()
    finally:
        await service.stop()


async def test_a_missed_daily_run_is_caught_up_once(kefu: Kefu) -> None:
    counter = Counter()
    job = Job("nightly", counter, Daily(time(0, 15), "Asia/Shanghai"))
    async with transaction(kefu.sessions) as session:  # it last ran Monday night
        await state.ensure(session, job_id=job.id)
        assert await state.claim_slot(session, job_id=job.id, slot=MONDAY_SLOT)
    clock = Clock(datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI))  # Kefu was down at 00:15

    await start_and_stop(kefu, job, clock)
    assert counter.runs == 1
    record = (await job_states(kefu))[job.id]
    assert record.last_slot == TUESDAY_SLOT and record.last_outcome == "ok"

    clock.advance(hours=3)  # restarted the same day: nothing is due again
    await start_and_stop(kefu, job, clock)
    assert counter.runs == 1

    clock.now = datetime(2026, 11, 25, 7, 0, tzinfo=SHANGHAI)  # down over Wednesday 00:15
    await start_and_stop(kefu, job, clock)
    assert counter.runs == 2


async def test_a_job_that_never_ran_runs_at_the_first_start(kefu: Kefu) -> None:
    counter = Counter()
    job = Job("nightly", counter, Daily(time(0, 15), "Asia/Shanghai"))
    clock = Clock(datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI))
    await start_and_stop(kefu, job, clock)
    assert counter.runs == 1


async def test_two_processes_catching_up_the_same_slot_run_it_once(kefu: Kefu) -> None:
    counter = Counter()
    job = Job("nightly", counter, Daily(time(0, 15), "Asia/Shanghai"))
    context = JobContext(kefu.sessions, kefu.settings, Clock(TUESDAY_SLOT))
    outcomes = await asyncio.gather(run_job(job, context, owner="a", slot=TUESDAY_SLOT),
                                    run_job(job, context, owner="b", slot=TUESDAY_SLOT))
    assert sorted(o.outcome for o in outcomes) == ["ok", "skipped"]
    assert counter.runs == 1


async def test_a_run_never_overlaps_itself(kefu: Kefu) -> None:
    """`kefu jobs run` while the scheduler runs the same job: the second is refused."""
    counter = Counter()
    job = Job("sweep", counter, Daily(time(3, 30), "Asia/Shanghai"))
    context = JobContext(kefu.sessions, kefu.settings, Clock(TUESDAY_SLOT))
    outcomes = await asyncio.gather(run_job(job, context, owner="server"),
                                    run_job(job, context, owner="cli"))
    assert sorted((o.outcome, o.detail) for o in outcomes)[1] == (
        "skipped", "running in another process")
    assert counter.runs == 1
    again = await run_job(job, context, owner="cli")  # once it is done, it may run again
    assert again.outcome == "ok" and counter.runs == 2
