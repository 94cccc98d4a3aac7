"""How many SQL statements a common turn costs: a turn's time is mostly its round trips to
the database, so the count is held here and cannot creep back unnoticed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from bot.app import Kefu, build_kefu
from bot.core.messages import InboundMessage
from bot.core.storage.statements import recording
from bot.settings import Settings
from tests.conftest import FIXED_NOW
from tests.factories import bound_member

# A balance question from a bound member who wrote before: one read of identity, member and
# conversation; purchases, snapshot and ledger entries for the balance; the turn's writes
# (conversation, inbound message, identity, what was understood, the reply). SQLite adds its
# BEGIN IMMEDIATE (bot/core/storage/db.py). It was 14 on both before issue 14.
BALANCE_STATEMENTS = {"sqlite": 10, "postgresql": 9}


def ticking() -> Iterator[datetime]:
    for second in count():
        yield FIXED_NOW + timedelta(seconds=second)


@pytest.fixture
async def kefu_live(settings: Settings, embedded_nlu: Any) -> AsyncIterator[Kefu]:
    """A Kefu whose clock moves a second per turn, as in production (a fixed clock would
    spare the writes of "last seen" and "last message" times)."""
    clock = ticking()
    app = await build_kefu(settings, nlu=embedded_nlu, clock=lambda: next(clock))
    yield app
    await app.aclose()


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


async def test_a_newcomer_is_created_and_then_found_in_one_read(kefu: Kefu) -> None:
    with recording(kefu.engine) as first:
        await kefu.dialogue.handle(inbound("/help", sender="newcomer"))
    with recording(kefu.engine) as second:
        await kefu.dialogue.handle(inbound("/help", sender="newcomer"))
    reads = [s for s in second.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1, str(second)
    assert any("INSERT INTO channel_identities" in s for s in first.statements), str(first)
    assert not any("INSERT INTO channel_identities" in s for s in second.statements)
