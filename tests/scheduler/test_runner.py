"""The scheduler as it runs: APScheduler on a running loop awaits the real jobs, whose
effects land in the database; a failing job is recorded and counted and does not stop the
others."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.app import Kefu
from bot.core.messages import InboundMessage
from bot.core.storage.db import transaction
from bot.core.storage.models import Message, PointTransaction
from bot.features.cases import store
from scheduler.execute import Job, JobContext
from scheduler.jobs import POINTS_EXPIRY, RETENTION_PURGE, SLA_CHECK, all_jobs
from scheduler.runner import JobService, make_lock
from scheduler.schedules import Every
from tests.cases.helpers import Clock, dialogue, file_complaint
from tests.conftest import FIXED_NOW
from tests.factories import bound_member, create_member, earn
from tests.scheduler.helpers import eventually, job_states, metric


async def boom(context: JobContext) -> None:
    raise RuntimeError("a bad row")


async def _old_messages(kefu: Kefu) -> int:
    async with kefu.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Message).where(
            Message.created_at < FIXED_NOW - timedelta(days=180))) or 0)


async def test_the_running_scheduler_awaits_every_job(kefu: Kefu) -> None:
    # Work for each job: a lapsed lot, a message past retention, a case near its deadline.
    async with transaction(kefu.sessions) as session:
        member = await create_member(session, kefu, member_no="M200001",
                                     phone="+8613900000002")
        await earn(session, member, 120, days_ago=400)
    await bound_member(kefu)
    await kefu.dialogue.handle(InboundMessage("web", "alice", "/points", FIXED_NOW))
    async with transaction(kefu.sessions) as session:
        for message in await session.scalars(select(Message)):
            message.created_at = FIXED_NOW - timedelta(days=200)
    assert await _old_messages(kefu) > 0
    case = await file_complaint(kefu, dialogue(kefu, Clock()))  # high: due 16:00
    clock = Clock(FIXED_NOW + timedelta(minutes=100))  # 15:40: within the warning time

    jobs = [*[job for job in all_jobs(kefu.settings) if job.id != SLA_CHECK],
            Job(SLA_CHECK, next(j for j in all_jobs(kefu.settings) if j.id == SLA_CHECK).run,
                Every(1)),
            Job("boom", boom, Every(1))]
    service = JobService(jobs, JobContext(kefu.sessions, kefu.settings, clock),
                         make_lock(kefu.engine, kefu.settings), check_seconds=1)
    failed_before = metric("kefu_job_runs_total", job="boom", outcome="failed")
    warned_before = metric("kefu_sla_warnings_total")
    await service.start()
    try:
        assert service.leading

        async def warned() -> bool:
            async with kefu.sessions() as session:
                kinds = [e.kind for e in await store.events_of(session, case_ids=[case.id])]
            return "sla_warning" in kinds

        await eventually(warned, what="the SLA warning")

        async def expired() -> bool:
            async with kefu.sessions() as session:
                return bool(await session.scalar(select(func.count()).select_from(
                    PointTransaction).where(PointTransaction.kind == "expire")))

        await eventually(expired, what="the expire entry (daily job caught up at start)")

        async def purged() -> bool:
            return await _old_messages(kefu) == 0

        await eventually(purged, what="the retention purge (caught up at start)")

        async def failed_twice() -> bool:
            record = (await job_states(kefu)).get("boom")
            return record is not None and record.failures >= 2

        await eventually(failed_twice, what="the failing job running again")
    finally:
        await service.stop()
    records = await job_states(kefu)
    assert records["boom"].last_outcome == "failed"
    assert "RuntimeError: a bad row" in (records["boom"].last_error or "")
    assert records[SLA_CHECK].last_outcome == "ok" and records[SLA_CHECK].runs >= 1
    assert records[SLA_CHECK].last_success_at == clock.now
    for daily in (POINTS_EXPIRY, RETENTION_PURGE):
        assert records[daily].last_outcome == "ok" and records[daily].runs == 1
        assert records[daily].last_slot is not None
    assert metric("kefu_job_runs_total", job="boom", outcome="failed") >= failed_before + 2
    assert metric("kefu_sla_warnings_total") == warned_before + 1
    assert metric("kefu_job_last_success_timestamp_seconds", job=SLA_CHECK) == (
        clock.now.timestamp())
