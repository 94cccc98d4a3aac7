"""The retention job: deletes conversation messages and finished outbox rows past their time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import audit
from bot.core.storage.db import transaction
from bot.core.storage.models import Message, OutboxMessage
from bot.core.storage.models_cases import CaseEvent
from bot.settings import Settings

JOB_ID = "privacy.retention"
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class PurgeReport:
    cutoff: datetime
    messages_deleted: int
    outbox_deleted: int


async def _purge_outbox(session: AsyncSession, *, cutoff: datetime, batch: int) -> int:
    ids = list((await session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.created_at < cutoff,
                                       OutboxMessage.status != "pending")
        .order_by(OutboxMessage.id).limit(batch))).all())
    if ids:
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return len(ids)


async def _purge_messages(session: AsyncSession, *, cutoff: datetime, batch: int) -> int:
    ids = list((await session.scalars(
        select(Message.id).where(Message.created_at < cutoff)
        .order_by(Message.id).limit(batch))).all())
    if not ids:
        return 0
    # Newer rows may point at these (a reply to an old message, a pending delivery): they
    # keep existing, without the link.
    await session.execute(update(Message).where(Message.reply_to_id.in_(ids))
                          .values(reply_to_id=None))
    await session.execute(update(OutboxMessage).where(OutboxMessage.message_id.in_(ids))
                          .values(message_id=None))
    await session.execute(update(CaseEvent).where(CaseEvent.message_id.in_(ids))
                          .values(message_id=None))
    await session.execute(delete(Message).where(Message.id.in_(ids)))
    return len(ids)


async def purge_expired(
    sessions: async_sessionmaker[AsyncSession],
    *,
    settings: Settings,
    clock: Clock,
    batch: int = 1000,
) -> PurgeReport:
    """Deletes messages and finished (sent or failed) outbox rows older than
    ``privacy.retention_days``, ``batch`` rows per transaction, then audits the run.
    Pending deliveries are never deleted: the dispatcher still owns them."""
    cutoff = clock() - timedelta(days=settings.privacy.retention_days)
    outbox_deleted = messages_deleted = 0
    while True:
        async with transaction(sessions) as session:
            done = await _purge_outbox(session, cutoff=cutoff, batch=batch)
        outbox_deleted += done
        if done < batch:
            break
    while True:
        async with transaction(sessions) as session:
            done = await _purge_messages(session, cutoff=cutoff, batch=batch)
        messages_deleted += done
        if done < batch:
            break
    async with transaction(sessions) as session:
        await audit.record(session, actor="system:retention", action=audit.PRIVACY_PURGE,
                           detail={"cutoff": cutoff.isoformat(),
                                   "messages_deleted": messages_deleted,
                                   "outbox_deleted": outbox_deleted}, now=clock())
    return PurgeReport(cutoff, messages_deleted, outbox_deleted)
