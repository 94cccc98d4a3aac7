"""Leases: renewed while a slow send runs (no other dispatcher takes the row), freed at
once when the process holding them is gone, and given back unsent on a drain."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.core.messages import OutboundMessage
from bot.core.storage.db import make_sessionmaker, transaction
from bot.core.storage.models import OutboxMessage
from bot.outbox import store as outbox
from bot.outbox.dispatcher import ChannelPolicy, Dispatcher
from tests.conftest import Database

POLICY = {"telegram": ChannelPolicy(per_second=1000)}


class SlowSender:
    name = "telegram"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.sent: list[str] = []

    async def send(self, message: OutboundMessage) -> str | None:
        await asyncio.sleep(self.seconds)
        self.sent.append(message.text)
        return str(len(self.sent))

    async def aclose(self) -> None:
        return None


async def one_row(database: Database) -> int:
    async with transaction(make_sessionmaker(database.engine)) as session:
        row_id = await outbox.enqueue(session, OutboundMessage("telegram", "7", "hello"),
                                      identity_id=None, now=datetime.now(UTC))
    assert row_id is not None
    return row_id


def dispatcher(database: Database, sender: SlowSender, owner: str,
               lease: timedelta) -> Dispatcher:
    return Dispatcher(sessions=make_sessionmaker(database.engine), senders={"telegram": sender},
                      policies=POLICY, owner=owner, lease=lease)


async def test_a_slow_send_keeps_its_lease(database: Database) -> None:
    await one_row(database)
    slow, other = SlowSender(4.5), SlowSender(0)
    first = dispatcher(database, slow, "host-a:1:0001", timedelta(seconds=1.5))
    second = dispatcher(database, other, "host-b:2:0002", timedelta(seconds=1.5))
    stop = asyncio.Event()
    running = asyncio.create_task(first.run(stop, poll_seconds=0.1))
    await asyncio.sleep(3.0)  # twice the lease: only renewal keeps the row first's
    assert await second.run_once() == 0
    await asyncio.sleep(2.0)
    stop.set()
    await running
    assert slow.sent == ["hello"] and other.sent == []


async def test_leases_of_a_dead_process_on_this_host_are_reclaimed(database: Database) -> None:
    row_id = await one_row(database)
    sender = SlowSender(0)
    restarted = dispatcher(database, sender, "", timedelta(minutes=10))
    host = restarted.owner.rsplit(":", 2)[0]
    dead, alive = f"{host}:999999999:dead", "elsewhere:1:beef"
    sessions = make_sessionmaker(database.engine)
    async with transaction(sessions) as session:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(
            lease_owner=dead, lease_until=datetime.now(UTC) + timedelta(minutes=10),
            attempts=1))
        other = await outbox.enqueue(session, OutboundMessage("telegram", "8", "other host"),
                                     identity_id=None, now=datetime.now(UTC))
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == other).values(
            lease_owner=alive, lease_until=datetime.now(UTC) + timedelta(minutes=10)))
    assert await restarted.reclaim_abandoned() == 1
    assert await restarted.run_once() == 1
    assert sender.sent == ["hello"]  # another host's lease is left to expire


async def test_a_drain_gives_back_rows_not_yet_sending(database: Database) -> None:
    sessions = make_sessionmaker(database.engine)
    async with transaction(sessions) as session:
        for chat in range(5):
            await outbox.enqueue(session, OutboundMessage("telegram", str(chat), f"m{chat}"),
                                 identity_id=None, now=datetime.now(UTC))
    sender = SlowSender(1.0)
    d = Dispatcher(sessions=sessions, senders={"telegram": sender}, policies=POLICY,
                   owner="host:1:drain", concurrency=2)
    batch = asyncio.create_task(d.run_once())
    await asyncio.sleep(0.3)  # two sends are out, three wait for the concurrency limit
    d.stop_claiming()
    await batch
    async with sessions() as session:
        rows = (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
                ).scalars().all()
    assert sorted(sender.sent) == sorted(r.payload["text"] for r in rows if r.status == "sent")
    assert len(sender.sent) == 2
    given_back = [r for r in rows if r.status == "pending"]
    assert len(given_back) == 3
    assert all(r.lease_owner is None and r.attempts == 0 for r in given_back)
