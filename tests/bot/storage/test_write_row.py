"""A turn's bookkeeping writes (conversations.write_row): one Core UPDATE per row, with the
changes made through the ORM folded in, and nothing left for the ORM to write again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.app import Kefu
from bot.core.storage.conversations import open_conversation, write_row
from bot.core.storage.db import transaction
from bot.core.storage.models import Conversation
from bot.core.storage.statements import recording
from tests.conftest import FIXED_NOW


async def test_a_row_is_written_once_with_what_the_orm_changed(kefu: Kefu) -> None:
    async with transaction(kefu.sessions) as session:
        _identity, conversation = await open_conversation(
            session, channel="web", external_id="rowwriter", now=FIXED_NOW)
    later = FIXED_NOW + timedelta(minutes=5)
    with recording(kefu.engine) as log:
        async with transaction(kefu.sessions) as session:
            _identity, conversation = await open_conversation(
                session, channel="web", external_id="rowwriter", now=later)
            conversation.state = {"form": "feedback"}  # a handler's change, through the ORM
            await write_row(session, conversation, {"last_message_at": later})
    updates = [s for s in log.statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1, str(log)  # the commit found nothing more to write
    assert "state" in updates[0] and "last_message_at" in updates[0]
    async with kefu.sessions() as session:
        stored = (await session.execute(
            select(Conversation.state, Conversation.last_message_at)
            .where(Conversation.id == conversation.id))).one()
    assert stored == ({"form": "feedback"}, later)


async def test_a_row_left_unchanged_by_the_orm_gets_only_the_values_given(kefu: Kefu) -> None:
    async with transaction(kefu.sessions) as session:
        identity, _conversation = await open_conversation(
            session, channel="web", external_id="rowwriter2", now=FIXED_NOW)
        identity.unsubscribed_at = None  # set to what it was: no change
    later = FIXED_NOW + timedelta(hours=1)
    with recording(kefu.engine) as log:
        async with transaction(kefu.sessions) as session:
            identity, _conversation = await open_conversation(
                session, channel="web", external_id="rowwriter2", now=later)
            identity.unsubscribed_at = None
            await write_row(session, identity, {"last_seen_at": later})
            assert identity.last_seen_at == later
    updates = [s for s in log.statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1, str(log)
    assert "last_seen_at" in updates[0] and "unsubscribed_at" not in updates[0]
