"""Durable job records: claim a run or a scheduled slot atomically, record how it went.

Every step is one UPDATE guarded by its own condition, so two processes (or the server and
`kefu jobs run`) can never both claim the same run or the same slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models_jobs import JobState, SchedulerLeader

OK, FAILED = "ok", "failed"


async def ensure(session: AsyncSession, *, job_id: str) -> None:
    """Creates the job's row if it is not there yet (insert-or-ignore)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, JobState.__table__)
    await session.execute(insert(table).values(job_id=job_id, runs=0, failures=0)
                          .on_conflict_do_nothing(index_elements=["job_id"]))


async def claim_slot(session: AsyncSession, *, job_id: str, slot: datetime) -> bool:
    """Marks ``slot`` (a scheduled instant) as taken; False when it, or a later one, was."""
    result = await session.execute(
        update(JobState)
        .where(JobState.job_id == job_id,
               or_(JobState.last_slot.is_(None), JobState.last_slot < slot))
        .values(last_slot=slot))
    return bool(cast(Any, result).rowcount)


async def claim_run(session: AsyncSession, *, job_id: str, owner: str, now: datetime,
                    hold: timedelta) -> bool:
    """Starts a run unless another one holds the job (a lapsed hold no longer counts)."""
    result = await session.execute(
        update(JobState)
        .where(JobState.job_id == job_id,
               or_(JobState.running_owner.is_(None), JobState.running_until < now))
        .values(running_owner=owner, running_until=now + hold, last_started_at=now,
                last_owner=owner))
    return bool(cast(Any, result).rowcount)


async def finish_run(session: AsyncSession, *, job_id: str, owner: str, now: datetime,
                     duration_ms: int, error: str | None, result: str | None) -> None:
    values: dict[str, Any] = {
        "running_owner": None, "running_until": None, "last_finished_at": now,
        "last_duration_ms": duration_ms, "last_outcome": FAILED if error else OK,
        "last_error": error, "last_result": (result or "")[:500] or None,
        "runs": JobState.runs + 1,
    }
    if error:
        values["failures"] = JobState.failures + 1
    else:
        values["last_success_at"] = now
    await session.execute(update(JobState).where(JobState.job_id == job_id,
                                                 JobState.running_owner == owner)
                          .values(**values))


async def all_states(session: AsyncSession) -> dict[str, JobState]:
    rows = (await session.execute(select(JobState))).scalars()
    return {row.job_id: row for row in rows}


async def get_state(session: AsyncSession, *, job_id: str) -> JobState | None:
    return await session.get(JobState, job_id)


async def note_leader(session: AsyncSession, *, owner: str, now: datetime) -> None:
    """Records that ``owner`` leads (the row is for people; the lock decides)."""
    row = await session.get(SchedulerLeader, 1)
    if row is None:
        session.add(SchedulerLeader(id=1, owner=owner, since=now, heartbeat_at=now))
    elif row.owner != owner:
        row.owner, row.since, row.heartbeat_at = owner, now, now
    else:
        row.heartbeat_at = now


async def leader(session: AsyncSession) -> SchedulerLeader | None:
    return await session.get(SchedulerLeader, 1)
