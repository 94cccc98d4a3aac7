"""Delivery of the web channel: the chat page takes its pending outbox rows (agent replies,
satisfaction questions) over a Server-Sent Events stream."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models import OutboxMessage
from bot.outbox.store import PENDING, SENT, update_pending

WEB = "web"


async def take_pending(
    session: AsyncSession, *, recipient_id: str, now: datetime, limit: int = 20
) -> list[OutboxMessage]:
    """Marks the recipient's due web rows sent and returns them, oldest first.

    The UPDATE only takes rows still pending, so two open chat tabs never both show one.
    """
    due = (select(OutboxMessage.id)
           .where(OutboxMessage.channel == WEB, OutboxMessage.recipient_id == recipient_id,
                  OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
           .order_by(OutboxMessage.id).limit(limit))
    ids = list((await session.execute(due)).scalars())
    return await update_pending(session, ids, status=SENT, sent_at=now, delivered_via="sse",
                                attempts=OutboxMessage.attempts + 1)
