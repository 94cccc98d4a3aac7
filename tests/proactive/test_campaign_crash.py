"""A campaign sender SIGKILLed midway through 10,000 recipients on PostgreSQL, restarted:
each recipient still gets exactly one message."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import func, insert, select

from bot.app import Kefu, build_kefu
from bot.app_proactive import planner_for
from bot.core.messages import OutboundMessage
from bot.core.storage.db import transaction
from bot.core.storage.models import ChannelIdentity, Member, OutboxMessage
from bot.core.storage.models_proactive import CampaignRecipient
from bot.core.storage.security_models import ConsentEvent
from bot.features.proactive import campaigns
from bot.features.proactive.live import LiveProactive
from bot.features.proactive.segments import Segment
from bot.features.proactive.settings import QuietHours
from bot.outbox.dispatcher import ChannelPolicy, Dispatcher
from bot.settings import Settings
from tests.conftest import BACKENDS, ROOT, Database

RECIPIENTS = 10_000
pytestmark = [pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL only"),
              pytest.mark.timeout(900)]


class Counting:
    name = "telegram"

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()

    async def send(self, message: OutboundMessage) -> str | None:
        self.received[message.recipient_id] += 1
        return str(sum(self.received.values()))

    async def aclose(self) -> None:
        return None


async def _seed(kefu: Kefu, now: datetime) -> None:
    async with transaction(kefu.sessions) as session:
        await session.execute(insert(Member), [
            {"member_no": f"M{900000 + i}", "language": "zh-Hans", "timezone": "Asia/Shanghai",
             "tier": "gold", "joined_at": now, "consent_greetings": True,
             "consent_promotions": True, "created_at": now, "updated_at": now}
            for i in range(RECIPIENTS)])
        ids = list((await session.execute(select(Member.id).order_by(Member.id))).scalars())
        await session.execute(insert(ChannelIdentity), [
            {"channel": "telegram", "external_id": str(7_000_000 + i), "member_id": member_id,
             "bound_at": now, "created_at": now, "last_seen_at": now, "window_sent": 0}
            for i, member_id in enumerate(ids)])
        await session.execute(insert(ConsentEvent), [
            {"member_id": member_id, "kind": "promotions", "granted": True, "source": "test",
             "at": now} for member_id in ids])


async def test_a_killed_sender_resumes_and_each_recipient_gets_one_message(
        database: Database, settings: Settings) -> None:
    if database.backend != "postgresql":
        pytest.skip("the crash test runs on PostgreSQL")
    # Quiet hours off, so the test sends whatever the time of day (the worker likewise).
    quiet_off = QuietHours(start=time(0, 0), end=time(0, 0))
    settings = settings.model_copy(update={
        "telegram_bot_token": SecretStr("123:crash-test"),
        "proactive": settings.proactive.model_copy(update={"quiet_hours": quiet_off})})
    kefu = await build_kefu(settings)
    try:
        now = datetime.now(UTC)
        await _seed(kefu, now)
        planner = planner_for(kefu, LiveProactive(settings.proactive, None))
        async with transaction(kefu.sessions) as session:
            campaign, seen = await campaigns.create(
                session, planner, name="万人活动", segment=Segment(tiers=["gold"]),
                texts={"zh-Hans": "{name}，金卡会员专享"}, now=now,
                send_at=now - timedelta(seconds=1), actor="test")
        assert seen.reachable == RECIPIENTS

        worker = [sys.executable, "-m", "tests.proactive.campaign_worker", database.url,
                  database.schema or "", "100"]
        env = {**os.environ, "PYTHONPATH": str(ROOT),
               "KEFU_PROACTIVE__QUIET_HOURS__START": "00:00",
               "KEFU_PROACTIVE__QUIET_HOURS__END": "00:00"}
        first = await asyncio.create_subprocess_exec(
            *worker, stdout=asyncio.subprocess.PIPE, env=env, cwd=ROOT)
        assert first.stdout is not None
        batches = 0
        while batches < 15:
            line = await asyncio.wait_for(first.stdout.readline(), timeout=300)
            assert line, "the worker ended before it could be killed"
            batches += line.startswith(b"batch")
        first.send_signal(signal.SIGKILL)
        await asyncio.wait_for(first.wait(), timeout=30)
        async with kefu.sessions() as session:
            partial = await session.scalar(select(func.count()).select_from(CampaignRecipient))
        assert 1_500 <= (partial or 0) < RECIPIENTS  # killed midway, batches kept

        second = await asyncio.create_subprocess_exec(
            *worker, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
            cwd=ROOT)
        out, err = await asyncio.wait_for(second.communicate(), timeout=600)
        assert second.returncode == 0 and b"done" in out, err.decode()

        async with kefu.sessions() as session:
            recipients = await session.scalar(
                select(func.count(func.distinct(CampaignRecipient.member_id))))
            rows = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.purpose == campaigns.PURPOSE))
        assert recipients == RECIPIENTS and rows == RECIPIENTS

        sender = Counting()
        dispatcher = Dispatcher(sessions=kefu.sessions, senders={"telegram": sender},
                                policies={"telegram": ChannelPolicy(per_second=1_000_000)},
                                batch=500, concurrency=50)
        while await dispatcher.run_once():
            pass
        assert len(sender.received) == RECIPIENTS
        assert set(sender.received.values()) == {1}
        async with kefu.sessions() as session:
            state = await campaigns.status(session, campaign_id=campaign.id)
        assert state is not None and state.campaign.status == campaigns.DONE
        assert (state.sent, state.failed, state.pending, state.skipped) == (RECIPIENTS, 0, 0, 0)
    finally:
        await kefu.aclose()
