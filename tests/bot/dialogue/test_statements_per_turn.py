"""How many SQL statements a common turn costs: a turn's time is mostly its round trips to
the database, so the count is held here and cannot creep back unnoticed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Kefu, build_kefu
from bot.core.messages import InboundMessage
from bot.core.storage.models import ChannelIdentity, Conversation, Message
from bot.core.storage.statements import recording
from bot.settings import Settings
from tests.conftest import FIXED_NOW
from tests.factories import bound_member

# A balance question from a bound member who wrote seconds before: one read of identity,
# member and conversation; snapshot and ledger entries for the balance (not the purchases:
# the tier is not asked); the inbound message (with what the NLU made of it before the turn)
# and the reply. SQLite adds its BEGIN IMMEDIATE (bot/core/storage/db.py). It was 14 on
# both before issue 14.
BALANCE_STATEMENTS = {"sqlite": 6, "postgresql": 5}


async def ticking_kefu(settings: Settings, nlu: Any, step: timedelta) -> AsyncIterator[Kefu]:
    """A Kefu whose clock moves ``step`` per turn."""
    ticks = (FIXED_NOW + tick * step for tick in count())
    app = await build_kefu(settings, nlu=nlu, clock=lambda: next(ticks))
    yield app
    await app.aclose()


@pytest.fixture
async def kefu_live(settings: Settings, embedded_nlu: Any) -> AsyncIterator[Kefu]:
    """A second per turn, as a customer typing."""
    async for app in ticking_kefu(settings, embedded_nlu, timedelta(seconds=1)):
        yield app


@pytest.fixture
async def kefu_slow(settings: Settings, embedded_nlu: Any) -> AsyncIterator[Kefu]:
    """A minute per turn: "last seen" is due every time."""
    async for app in ticking_kefu(settings, embedded_nlu, timedelta(minutes=1)):
        yield app


def inbound(text: str, sender: str = "alice") -> InboundMessage:
    return InboundMessage(channel="web", sender_id=sender, text=text,
                          received_at=datetime.now(UTC))


async def test_a_balance_question_costs_a_fixed_number_of_statements(kefu_live: Kefu) -> None:
    await bound_member(kefu_live, points=1234)
    await kefu_live.dialogue.handle(inbound("你好"))  # the sender and conversation now exist
    with recording(kefu_live.engine) as log:
        replies = await kefu_live.dialogue.handle(inbound("我有多少积分"))
    assert "1,234" in replies[0].text
    backend = kefu_live.engine.dialect.name
    assert log.count == BALANCE_STATEMENTS[backend], f"{backend}:\n{log}"


async def test_last_seen_and_last_message_are_kept_to_the_minute(kefu_slow: Kefu) -> None:
    await bound_member(kefu_slow, points=1234)
    await kefu_slow.dialogue.handle(inbound("你好"))
    with recording(kefu_slow.engine) as log:
        await kefu_slow.dialogue.handle(inbound("我有多少积分"))
    backend = kefu_slow.engine.dialect.name
    assert log.count == BALANCE_STATEMENTS[backend] + 2, f"{backend}:\n{log}"
    assert any(s.startswith("UPDATE channel_identities SET last_seen_at") for s in log.statements)
    assert any(s.startswith("UPDATE conversations SET last_message_at") for s in log.statements)
    async with kefu_slow.sessions() as session:
        seen = await session.scalar(select(ChannelIdentity.last_seen_at)
                                    .where(ChannelIdentity.external_id == "alice"))
        last = await session.scalar(select(Conversation.last_message_at))
    assert seen == last == FIXED_NOW + timedelta(minutes=1)  # the second turn's time


async def test_what_was_understood_is_stored_whether_guessed_or_not(kefu_live: Kefu) -> None:
    await bound_member(kefu_live, points=1234)
    await kefu_live.dialogue.handle(inbound("我有多少积分"))  # as the NLU guessed first
    await kefu_live.dialogue.handle(inbound("/tier"))  # a command: no guess
    await kefu_live.dialogue.handle(inbound("今天天气怎么样"))  # admitted: an outcome
    async with kefu_live.sessions() as session:
        stored = list((await session.execute(
            select(Message).where(Message.direction == "in").order_by(Message.id))).scalars())
    assert [(m.text, m.intent, m.outcome) for m in stored] == [
        ("我有多少积分", "points_balance", None), ("/tier", "member_tier", None),
        ("今天天气怎么样", stored[2].intent, "fallback")]
    assert stored[0].confidence is not None and 0 < stored[0].confidence <= 1
    assert stored[1].confidence is None


async def test_a_newcomer_is_created_and_then_found_in_one_read(kefu: Kefu) -> None:
    with recording(kefu.engine) as first:
        await kefu.dialogue.handle(inbound("/help", sender="newcomer"))
    with recording(kefu.engine) as second:
        await kefu.dialogue.handle(inbound("/help", sender="newcomer"))
    reads = [s for s in second.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1, str(second)
    assert any("INSERT INTO channel_identities" in s for s in first.statements), str(first)
    assert not any("INSERT INTO channel_identities" in s for s in second.statements)
