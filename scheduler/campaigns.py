"""Sends due campaigns: each is expanded into the outbox batch by batch, resumable."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.features.proactive import campaigns
from bot.features.proactive.greetings import Planner

log = logging.getLogger(__name__)


async def _refresh_statistics(sessions: async_sessionmaker[AsyncSession]) -> None:
    """ANALYZE the outbox on PostgreSQL after a campaign adds rows in bulk. The dispatcher's
    claim query needs fresh statistics: planned for an outbox of a few rows, it took over a
    minute per claim with 10,000 campaign rows pending (autovacuum catches up, but minutes
    later)."""
    async with sessions() as session, session.begin():
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            await session.execute(text("ANALYZE outbox"))


async def send_due_campaigns(
    *, sessions: async_sessionmaker[AsyncSession], planner: Planner,
    clock: Callable[[], datetime], batch: int = 500,
    on_batch: Callable[[], None] | None = None,
) -> int:
    """Queues every due campaign's members; returns how many members were handled.

    Each batch is one transaction (recipients, outbox rows, cursor), so a process killed in
    the middle leaves a campaign that the next run continues where it stopped. ``on_batch``
    is told after each committed batch (the server wakes its outbox dispatcher with it).
    """
    async with sessions() as session:
        ids = await campaigns.due(session, now=clock())
    handled = 0
    for campaign_id in ids:
        batches = 0
        while True:
            async with sessions() as session, session.begin():
                count = await campaigns.expand_batch(session, planner, campaign_id=campaign_id,
                                                     now=clock(), batch=batch)
            if count is None:
                break
            handled += count
            batches += 1
            if batches == 1:
                await _refresh_statistics(sessions)
            if on_batch is not None:
                on_batch()
        if batches > 1:
            await _refresh_statistics(sessions)
    if handled:
        log.info("campaigns: %d member(s) queued or skipped", handled)
    return handled
