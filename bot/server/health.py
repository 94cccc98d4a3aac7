"""Readiness: can this process take traffic now? Each check is bounded in time and says
what is wrong, so a load balancer or Kubernetes takes the process out only for a reason."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.outbox import store
from bot.settings import ReadinessSettings
from bot.spool.store import Spool

MB = 1024 * 1024


@dataclass(slots=True)
class Readiness:
    problems: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return not self.problems

    def body(self) -> dict[str, Any]:
        status = "ok" if self.ready else "unavailable"
        return {"status": status, "problems": self.problems, **self.details}


async def check(*, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
                settings: ReadinessSettings, spool: Spool | None,
                spooled: int | None, dispatched: frozenset[str]) -> Readiness:
    """Runs every check; the database ones share ``database_timeout_seconds``."""
    result = Readiness()
    database_ok = await _database(engine, settings.database_timeout_seconds, result)
    _sqlite_room(engine, settings.min_free_mb, result)
    if spool is not None:
        problem = await spool.problem()
        if problem is not None:
            result.problems.append(problem)
        result.details["spool"] = {"backend": spool.name, "pending": spooled}
        if spooled is not None and spooled > settings.max_spooled:
            result.problems.append(f"{spooled} pushes wait in the spool (over "
                                   f"{settings.max_spooled})")
    if database_ok and dispatched:
        await _outbox(sessions, settings, dispatched, result)
    return result


async def _database(engine: AsyncEngine, seconds: float, result: Readiness) -> bool:
    async def ping() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    # Not wait_for: it would also wait for the cancelled driver call to clean up, which
    # behind a partition takes as long as the partition.
    task = asyncio.ensure_future(ping())
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        task.add_done_callback(_consume)
        result.problems.append(f"database did not answer within {seconds:g} s")
        return False
    error = task.exception()
    if error is not None:  # any driver error: not ready, and the class says which
        result.problems.append(f"database not answering ({error.__class__.__name__})")
        return False
    return True


def _consume(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()


def _sqlite_room(engine: AsyncEngine, min_free_mb: int, result: Readiness) -> None:
    if engine.url.get_backend_name() != "sqlite" or not engine.url.database:
        return
    directory = Path(engine.url.database).resolve().parent
    try:
        free = shutil.disk_usage(directory).free
    except OSError as exc:
        result.problems.append(f"database directory {directory}: {exc.strerror or exc}")
        return
    result.details["database_free_mb"] = free // MB
    if free < min_free_mb * MB:
        result.problems.append(f"database disk has {free // MB} MB free (need "
                               f"{min_free_mb} MB)")


async def _outbox(sessions: async_sessionmaker[AsyncSession], settings: ReadinessSettings,
                  dispatched: frozenset[str], result: Readiness) -> None:
    now = datetime.now(UTC)
    try:
        async with sessions() as session:
            oldest = await asyncio.wait_for(store.oldest_pending(session, now=now),
                                            timeout=settings.database_timeout_seconds)
    except Exception as exc:  # the database check above already passed; report, go on
        result.problems.append(f"outbox not readable ({exc.__class__.__name__})")
        return
    ages: dict[str, int] = {}
    for channel, (created, untried) in oldest.items():
        if channel not in dispatched:
            continue  # web rows wait for the customer's page, not for a dispatcher
        ages[channel] = int((now - created).total_seconds())
        limit = settings.max_unclaimed_seconds
        if limit and untried is not None and (now - untried).total_seconds() > limit:
            result.problems.append(f"{channel} outbox not draining: a due message waited "
                                   f"{int((now - untried).total_seconds())} s untried")
    result.details["outbox_oldest_pending_seconds"] = ages
