"""Several dispatchers on one database: nothing sent twice, nothing lost, chats in order."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.channels.telegram_sender import TelegramSender, make_bot
from bot.core.messages import OutboundMessage
from bot.core.storage.db import make_engine, make_sessionmaker, transaction
from bot.core.storage.models import OutboxMessage
from bot.outbox import store as outbox
from bot.outbox.dispatcher import ChannelPolicy, Dispatcher
from kefu_sim import TelegramSimConfig, TelegramSimulator, serve_in_thread
from tests.conftest import Database

TOKEN = "424242:AAE-dispatchers"
CHATS, PER_CHAT = 100, 10


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[TelegramSimulator, str]]:
    simulator = TelegramSimulator(TelegramSimConfig(token=TOKEN))
    with serve_in_thread(simulator) as url:
        yield simulator, url


async def test_two_dispatchers_send_a_thousand_messages_exactly_once(
    database: Database, sim: tuple[TelegramSimulator, str]
) -> None:
    if database.backend != "postgresql":
        pytest.skip("concurrent dispatchers are a PostgreSQL deployment")
    simulator, url = sim
    simulator.reset_records()
    sessions = make_sessionmaker(database.engine)
    now = datetime.now(UTC)
    async with transaction(sessions) as session:
        for n in range(PER_CHAT):
            for chat in range(1, CHATS + 1):
                await outbox.enqueue(session, OutboundMessage("telegram", str(chat),
                                                              f"{chat}:{n}"),
                                     identity_id=None, now=now)
    policy = {"telegram": ChannelPolicy(per_second=5000)}
    engines = [make_engine(database.url, schema=database.schema) for _ in range(2)]
    dispatchers = [
        Dispatcher(sessions=make_sessionmaker(engine), owner=f"d{i}", batch=25,
                   senders={"telegram": TelegramSender(make_bot(TOKEN, url))},
                   policies=policy)
        for i, engine in enumerate(engines)
    ]

    async def drain(dispatcher: Dispatcher) -> None:
        idle = 0
        while idle < 5:
            idle = idle + 1 if await dispatcher.run_once() == 0 else 0
            if idle:
                await asyncio.sleep(0.05)

    await asyncio.wait_for(asyncio.gather(*(drain(d) for d in dispatchers)), timeout=240)
    for dispatcher in dispatchers:
        await dispatcher.aclose()
    for engine in engines:
        await engine.dispose()

    texts = [m.text for m in simulator.sent]
    assert len(texts) == CHATS * PER_CHAT
    assert len(set(texts)) == CHATS * PER_CHAT
    assert all(d.sent > 0 for d in dispatchers), "both dispatchers should share the work"
    order: dict[str, list[int]] = defaultdict(list)
    for message in simulator.sent:
        chat, n = message.text.split(":")
        order[chat].append(int(n))
    assert all(seq == sorted(seq) for seq in order.values())
    async with sessions() as session:
        pending = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status != "sent"))
    assert pending == 0
