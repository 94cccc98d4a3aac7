"""Telegram down for 10 minutes (the simulator stopped, then started again on its port):
no reply is lost; retries back off, each failure is one log line, give-up is loud.
The dispatcher runs on a manual clock, so ten minutes take a few seconds."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from bot.channels.telegram_sender import TelegramSender, make_bot
from bot.core.messages import OutboundMessage
from bot.core.storage.db import make_sessionmaker, transaction
from bot.core.storage.models import OutboxMessage
from bot.outbox import store as outbox
from bot.outbox.dispatcher import ChannelPolicy, Dispatcher
from kefu_sim import TelegramSimConfig, TelegramSimulator, serve_in_thread
from tests.conftest import Database

TOKEN = "555000:AAE-retries"
CHATS, PER_CHAT = 4, 3
STEP = timedelta(seconds=15)


class ManualClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def stopped_simulator_port() -> int:
    """A port where a simulator ran and no longer does: connections are refused."""
    with serve_in_thread(TelegramSimulator(TelegramSimConfig(token=TOKEN))) as url:
        return int(url.rsplit(":", 1)[1])


async def enqueue(database: Database, now: datetime) -> None:
    async with transaction(make_sessionmaker(database.engine)) as session:
        for n in range(PER_CHAT):
            for chat in range(1, CHATS + 1):
                await outbox.enqueue(session, OutboundMessage("telegram", str(chat),
                                                              f"{chat}:{n}"),
                                     identity_id=None, now=now)


async def rows(database: Database) -> list[OutboxMessage]:
    async with make_sessionmaker(database.engine)() as session:
        return list((await session.execute(select(OutboxMessage)
                                           .order_by(OutboxMessage.id))).scalars())


def dispatcher(database: Database, port: int, clock: ManualClock,
               retry_for: timedelta = timedelta(hours=24)) -> Dispatcher:
    return Dispatcher(sessions=make_sessionmaker(database.engine), clock=clock,
                      senders={"telegram": TelegramSender(
                          make_bot(TOKEN, f"http://127.0.0.1:{port}/bot"))},
                      policies={"telegram": ChannelPolicy(per_second=1000)},
                      retry_for=retry_for)


async def run_for(d: Dispatcher, clock: ManualClock, span: timedelta) -> None:
    end = clock.now + span
    while clock.now < end:
        while await d.run_once():
            pass
        clock.now += STEP


async def test_a_ten_minute_telegram_outage_loses_no_reply(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.outbox.dispatcher")
    clock = ManualClock()
    port = stopped_simulator_port()
    await enqueue(database, clock.now)
    d = dispatcher(database, port, clock)
    await run_for(d, clock, timedelta(minutes=10))
    during = await rows(database)
    assert {r.status for r in during} == {"pending"}
    assert max(r.attempts for r in during) >= 5  # it kept trying, with growing gaps
    failure_lines = [r for r in caplog.records if "outbox.telegram.transient" in r.getMessage()]
    assert failure_lines and all("\n" not in r.getMessage() for r in failure_lines)

    simulator = TelegramSimulator(TelegramSimConfig(token=TOKEN))
    with serve_in_thread(simulator, port=port):
        await run_for(d, clock, timedelta(minutes=15))  # the backoff is at most 10 min
        sent = [m.text for m in simulator.sent]
    await d.aclose()
    assert sorted(sent) == sorted(f"{c}:{n}" for c in range(1, CHATS + 1)
                                  for n in range(PER_CHAT))  # all, none twice
    order: dict[str, list[int]] = defaultdict(list)
    for text in sent:
        chat, n = text.split(":")
        order[chat].append(int(n))
    assert all(seq == sorted(seq) for seq in order.values())
    assert {r.status for r in await rows(database)} == {"sent"}


async def test_a_reply_no_longer_useful_is_given_up_loudly(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.outbox.dispatcher")
    before = REGISTRY.get_sample_value("kefu_outbox_gave_up_total",
                                       {"channel": "telegram",
                                        "reason": "retries_exhausted"}) or 0.0
    clock = ManualClock()
    port = stopped_simulator_port()
    await enqueue(database, clock.now)
    d = dispatcher(database, port, clock, retry_for=timedelta(minutes=5))
    await run_for(d, clock, timedelta(minutes=10))
    await d.aclose()
    final = await rows(database)
    assert {r.status for r in final} == {"failed"}
    assert all((r.last_error or "").startswith("gave up after") for r in final)
    gave_up = [r for r in caplog.records if "outbox.telegram.gave_up" in r.getMessage()]
    assert len(gave_up) == len(final)
    assert all(r.levelno == logging.ERROR for r in gave_up)
    after = REGISTRY.get_sample_value("kefu_outbox_gave_up_total",
                                      {"channel": "telegram", "reason": "retries_exhausted"})
    assert after == before + len(final)
