"""The retention job: old messages and finished deliveries go, recent ones and pending stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.app import Kefu
from bot.core import audit
from bot.core.messages import InboundMessage
from bot.core.storage.db import transaction
from bot.core.storage.models import Message, OutboxMessage
from scheduler.retention import purge_expired
from tests.conftest import FIXED_NOW
from tests.factories import bound_member


async def _count(kefu: Kefu, model: type[Message] | type[OutboxMessage]) -> int:
    async with transaction(kefu.sessions) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_purge_deletes_only_what_is_past_retention(kefu: Kefu) -> None:
    await bound_member(kefu)
    await kefu.dialogue.handle(InboundMessage(channel="web", sender_id="alice", text="/points",
                                              received_at=FIXED_NOW))
    async with transaction(kefu.sessions) as session:
        messages = list(await session.scalars(select(Message).order_by(Message.id)))
        assert len(messages) >= 2
        for message in messages:  # the whole exchange is old
            message.created_at = FIXED_NOW - timedelta(days=200)
        newest = Message(conversation_id=messages[0].conversation_id, direction="in",
                         channel="web", text="recent", created_at=FIXED_NOW,
                         reply_to_id=messages[0].id)
        session.add(newest)
        session.add_all([
            OutboxMessage(channel="web", recipient_id="alice", status=status, payload={},
                          created_at=FIXED_NOW - timedelta(days=days), message_id=messages[0].id,
                          next_attempt_at=FIXED_NOW)
            for status, days in (("sent", 200), ("failed", 200), ("pending", 200),
                                 ("sent", 10))])
    report = await purge_expired(kefu.sessions, settings=kefu.settings,
                                 clock=lambda: FIXED_NOW, batch=1)
    assert report.cutoff == FIXED_NOW - timedelta(days=180)
    assert (report.messages_deleted, report.outbox_deleted) == (len(messages), 2)
    async with transaction(kefu.sessions) as session:
        left = list(await session.scalars(select(Message)))
        assert [m.text for m in left] == ["recent"] and left[0].reply_to_id is None
        statuses = sorted(o.status for o in await session.scalars(select(OutboxMessage)))
        assert statuses == ["pending", "sent"]
        (entry,) = await audit.search(session, action=audit.PRIVACY_PURGE)
        assert entry.detail["messages_deleted"] == len(messages)
    again = await purge_expired(kefu.sessions, settings=kefu.settings, clock=lambda: FIXED_NOW)
    assert (again.messages_deleted, again.outbox_deleted) == (0, 0)
