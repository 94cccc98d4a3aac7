"""What `kefu jobs list` shows, read from the durable records only, so any process can tell
what the leading one did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler import state
from scheduler.execute import Job


@dataclass(frozen=True, slots=True)
class JobStatus:
    id: str
    schedule: str
    next_run: datetime | None
    last_run: datetime | None
    last_outcome: str | None
    duration_ms: int | None
    last_error: str | None
    last_result: str | None
    runs: int
    failures: int
    running: str | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "schedule": self.schedule, "next_run": _iso(self.next_run),
                "last_run": _iso(self.last_run), "last_outcome": self.last_outcome,
                "duration_ms": self.duration_ms, "last_error": self.last_error,
                "last_result": self.last_result, "runs": self.runs, "failures": self.failures,
                "running": self.running}


@dataclass(frozen=True, slots=True)
class LeaderStatus:
    owner: str
    since: datetime
    heartbeat_at: datetime
    # False when the leader has not been heard of for a while (it stopped, nobody leads).
    alive: bool

    def as_json(self) -> dict[str, Any]:
        return {"owner": self.owner, "since": _iso(self.since),
                "heartbeat_at": _iso(self.heartbeat_at), "alive": self.alive}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def job_statuses(session: AsyncSession, *, jobs: list[Job], now: datetime
                       ) -> list[JobStatus]:
    records = await state.all_states(session)
    found = []
    for job in jobs:
        record = records.get(job.id)
        last = record.last_started_at if record else None
        running = (record.running_owner if record and record.running_until
                   and record.running_until > now else None)
        found.append(JobStatus(
            id=job.id, schedule=job.schedule.describe(),
            next_run=job.schedule.next_after(now, last), last_run=last,
            last_outcome=record.last_outcome if record else None,
            duration_ms=record.last_duration_ms if record else None,
            last_error=record.last_error if record else None,
            last_result=record.last_result if record else None,
            runs=record.runs if record else 0, failures=record.failures if record else 0,
            running=running))
    return found


async def leader_status(session: AsyncSession, *, now: datetime,
                        check_seconds: int) -> LeaderStatus | None:
    row = await state.leader(session)
    if row is None:
        return None
    alive = now - row.heartbeat_at <= timedelta(seconds=3 * check_seconds + 5)
    return LeaderStatus(row.owner, row.since, row.heartbeat_at, alive)
