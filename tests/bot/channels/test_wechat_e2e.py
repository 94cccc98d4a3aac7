"""WeChat end to end: signed/encrypted pushes → dialogue → passive reply or the
customer-service API of the simulator (real wechatpy client)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.core.messages import OutboundMessage
from bot.core.storage.db import transaction
from bot.core.storage.members import find_identity
from bot.core.storage.models import Message, OutboxMessage
from bot.features.demo.seed import DEMO_WECHAT_OPENIDS, seed_demo
from bot.features.loyalty.service import member_standing
from bot.outbox import store as outbox
from bot.settings import Settings
from kefu_sim import WeChatSimulator, text_message
from nlu.protocol import NluBackend
from nlu.types import IntentScore, Parse
from tests.bot.channels.conftest import (
    WX_OLD_AES,
    WeChatRig,
    eventually,
    wait_for,
    wechat_rig_for,
)
from tests.factories import bound_member


@pytest.fixture
def openid() -> str:
    """A fresh follower per test: the simulator keeps windows and quotas per openid."""
    return "oT" + uuid.uuid4().hex[:26]


async def test_url_verification(wechat_rig: WeChatRig, openid: str) -> None:
    pusher = wechat_rig.pusher()
    assert await pusher.verify() is True
    assert await pusher.verify(bad_signature=True) is False


@pytest.mark.parametrize("mode", ["safe", "compat", "plain"])
async def test_passive_reply_with_the_balance(settings: Settings,
                                              wechat_sim: tuple[WeChatSimulator, str],
                                              mode: str, openid: str) -> None:
    # Plain pushes are accepted by an account in plain mode, i.e. without an AES key.
    async for wechat_rig in wechat_rig_for(settings, wechat_sim, aes=mode != "plain"):
        await bound_member(wechat_rig.kefu, channel="wechat", sender=openid, points=2468)
        result = await wechat_rig.pusher(mode=mode).text(openid, "/points")
        assert result.ok, result.error
        assert result.reply is not None
        assert "2,468" in result.reply["Content"]
        assert result.attempts == 1
        assert wechat_rig.sim.sent_to(openid) == []  # answered passively: no API quota used
        async with wechat_rig.kefu.sessions() as session:
            rows = list((await session.execute(select(OutboxMessage))).scalars())
        assert [(r.status, r.delivered_via) for r in rows] == [("sent", "passive")]


async def test_previous_aes_key_still_works_during_rotation(wechat_rig: WeChatRig, openid: str) -> None:
    result = await wechat_rig.pusher(key=WX_OLD_AES).text(openid, "/help")
    assert result.ok, result.error
    assert result.reply is not None


async def test_retried_push_is_stored_once_and_answered_the_same(wechat_rig: WeChatRig, openid: str) -> None:
    pusher = wechat_rig.pusher()
    fields = text_message("/help", openid=openid, msg_id=98765)
    first = await pusher.push(fields)
    second = await pusher.push(fields)
    assert first.reply is not None and second.reply is not None
    assert first.reply["Content"] == second.reply["Content"]
    async with wechat_rig.kefu.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "in")) == 1


async def test_subscribe_welcomes_and_unsubscribe_stops_everything(wechat_rig: WeChatRig
                                                                   ) -> None:
    pusher = wechat_rig.pusher()
    welcome = await pusher.event("oNewFollower0000000000000001", "subscribe")
    assert welcome.reply is not None
    assert "绑定" in welcome.reply["Content"]
    async with transaction(wechat_rig.kefu.sessions) as session:
        identity = await find_identity(session, channel="wechat",
                                       external_id="oNewFollower0000000000000001")
        assert identity is not None
        await outbox.enqueue(session, OutboundMessage("wechat", identity.external_id, "later"),
                             identity_id=identity.id, now=datetime.now(UTC),
                             not_before=datetime.now(UTC).replace(year=2100))
    gone = await pusher.event("oNewFollower0000000000000001", "unsubscribe")
    assert gone.ok and gone.reply is None
    async with wechat_rig.kefu.sessions() as session:
        identity = await find_identity(session, channel="wechat",
                                       external_id="oNewFollower0000000000000001")
        pending = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "pending"))
    assert identity is not None and identity.unsubscribed_at is not None
    assert pending == 0


async def test_bad_requests(wechat_rig: WeChatRig, openid: str) -> None:
    bad_signature = await wechat_rig.pusher(mode="plain").push(
        text_message("hi", openid=openid), bad_signature=True)
    assert bad_signature.status_code == 403
    junk = await wechat_rig.client.post("/webhooks/wechat?signature=x&timestamp=1&nonce=2",
                                        content=b"<xml><oops")
    assert junk.status_code == 403  # the signature is checked before anything is trusted
    huge = await wechat_rig.client.post("/webhooks/wechat", content=b"x" * 100_000)
    assert huge.status_code == 413
    async with wechat_rig.kefu.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 0


async def test_quota_and_window_are_respected(wechat_rig: WeChatRig, openid: str) -> None:
    await wechat_rig.pusher().text(openid, "/help")  # opens the 48-hour window
    async with wechat_rig.kefu.sessions() as session:
        identity = await find_identity(session, channel="wechat", external_id=openid)
        assert identity is not None

    async def failed_row() -> OutboxMessage | None:
        async with wechat_rig.kefu.sessions() as session:
            return (await session.execute(select(OutboxMessage).where(
                OutboxMessage.status == "failed"))).scalar_one_or_none()

    # One at a time, so that none is merged with the next: the sixth finds the quota used.
    for n in range(6):
        async with transaction(wechat_rig.kefu.sessions) as session:
            await outbox.enqueue(session, OutboundMessage("wechat", openid, f"notice {n}"),
                                 identity_id=identity.id, now=datetime.now(UTC))
        if n < 5:
            await wait_for(lambda n=n: len(wechat_rig.sim.sent_to(openid)) == n + 1)
    failed = await eventually(failed_row)
    assert "quota" in (failed.last_error or "")
    assert [m.text for m in wechat_rig.sim.sent_to(openid)] == [f"notice {n}" for n in range(5)]


async def test_a_backlog_goes_out_merged_in_order(wechat_rig: WeChatRig, openid: str) -> None:
    await wechat_rig.pusher().text(openid, "/help")
    async with wechat_rig.kefu.sessions() as session:
        identity = await find_identity(session, channel="wechat", external_id=openid)
        assert identity is not None
    before = len(wechat_rig.sim.sent_to(openid))
    async with transaction(wechat_rig.kefu.sessions) as session:
        for n in range(8):  # eight replies queued during an outage: more than the quota
            await outbox.enqueue(session, OutboundMessage("wechat", openid, f"reply {n}"),
                                 identity_id=identity.id, now=datetime.now(UTC))
    await wait_for(lambda: len(wechat_rig.sim.sent_to(openid)) > before)
    await asyncio.sleep(0.5)
    sent = [m.text for m in wechat_rig.sim.sent_to(openid)][before:]
    assert sent == ["\n\n".join(f"reply {n}" for n in range(8))]
    async with wechat_rig.kefu.sessions() as session:
        statuses = (await session.execute(select(OutboxMessage.status).where(
            OutboxMessage.recipient_id == openid))).scalars().all()
    assert set(statuses) == {"sent"}


async def test_expired_token_is_refreshed_once(wechat_rig: WeChatRig, openid: str) -> None:
    await wechat_rig.pusher().text(openid, "/help")
    async with transaction(wechat_rig.kefu.sessions) as session:
        identity = await find_identity(session, channel="wechat", external_id=openid)
        assert identity is not None
        await outbox.enqueue(session, OutboundMessage("wechat", openid, "first"),
                             identity_id=identity.id, now=datetime.now(UTC))
    await wait_for(lambda: len(wechat_rig.sim.sent_to(openid)) == 1)
    fetches = wechat_rig.sim.token_fetches
    wechat_rig.sim.expire_tokens()
    async with transaction(wechat_rig.kefu.sessions) as session:
        await outbox.enqueue(session, OutboundMessage("wechat", openid, "second"),
                             identity_id=identity.id, now=datetime.now(UTC))
    await wait_for(lambda: len(wechat_rig.sim.sent_to(openid)) == 2)
    assert wechat_rig.sim.token_fetches == fetches + 1


class SlowNlu:
    """An NLU that takes longer than WeChat's passive window."""

    def __init__(self, seconds: float = 0.8) -> None:
        self.seconds = seconds

    async def parse(self, text: str, *, timezone: str = "Asia/Shanghai") -> Parse:
        await asyncio.sleep(self.seconds)
        return Parse(text, IntentScore("points_balance", 0.99),
                     intent_ranking=(IntentScore("points_balance", 0.99),))


@pytest.fixture
async def slow_rig(settings: Settings, wechat_sim: tuple[WeChatSimulator, str]
                   ) -> AsyncIterator[WeChatRig]:
    async for rig in wechat_rig_for(settings, wechat_sim, nlu=SlowNlu(), passive_seconds=0.3):
        yield rig


async def test_slow_answer_goes_through_the_customer_service_api(slow_rig: WeChatRig, openid: str) -> None:
    await bound_member(slow_rig.kefu, channel="wechat", sender=openid, points=1357)
    result = await slow_rig.pusher().text(openid, "我还有多少积分")
    assert result.ok, result.error
    assert result.reply is None  # "success": WeChat shows nothing and does not retry
    assert result.attempts == 1
    await wait_for(lambda: bool(slow_rig.sim.sent_to(openid)))
    assert "1,357" in slow_rig.sim.sent_to(openid)[0].text

    async def delivered() -> OutboxMessage | None:
        # The platform has it; the dispatcher records that right after.
        async with slow_rig.kefu.sessions() as session:
            row = (await session.execute(select(OutboxMessage))).scalar_one()
        return row if row.status == "sent" else None

    row = await eventually(delivered)
    assert row.delivered_via == "api"


async def test_a_short_passive_window_is_kept_as_configured(
        settings: Settings, wechat_sim: tuple[WeChatSimulator, str], openid: str) -> None:
    """An operator's window shorter than the turn is not stretched to some floor: WeChat
    hears "success" at once and the reply goes through the customer-service API."""
    sim = wechat_sim[0]
    async for rig in wechat_rig_for(settings, wechat_sim, nlu=SlowNlu(0.3),
                                    passive_seconds=0.05):
        await bound_member(rig.kefu, channel="wechat", sender=openid, points=246)
        result = await rig.pusher().text(openid, "我还有多少积分")
        assert result.ok, result.error
        assert result.reply is None
        await wait_for(lambda: bool(sim.sent_to(openid)))
        assert "246" in sim.sent_to(openid)[0].text


async def test_demo_follower_asks_in_free_text(settings: Settings,
                                               wechat_sim: tuple[WeChatSimulator, str],
                                               embedded_nlu: NluBackend) -> None:
    async for rig in wechat_rig_for(settings, wechat_sim, nlu=embedded_nlu):
        async with transaction(rig.kefu.sessions) as session:
            await seed_demo(session, directory=rig.kefu.directory, settings=rig.kefu.settings,
                            now=datetime.now(UTC))
        gold = DEMO_WECHAT_OPENIDS["demo-gold"]
        async with rig.kefu.sessions() as session:
            member = await rig.kefu.directory.find(session, f"wechat:{gold}")
            assert member is not None
            standing = await member_standing(session, member=member,
                                             settings=rig.kefu.settings, now=datetime.now(UTC))
        result = await rig.pusher().text(gold, "我的积分还有多少？")
        assert result.reply is not None
        assert f"{standing.points.balance:,}" in result.reply["Content"]


async def test_unfollow_erases_when_the_operator_says_so(
        settings: Settings, wechat_sim: tuple[WeChatSimulator, str], openid: str) -> None:
    from bot.settings import PrivacySettings

    erasing = settings.model_copy(update={"privacy": PrivacySettings(
        **{**settings.privacy.model_dump(), "erase_on_wechat_unsubscribe": True})})
    async for rig in wechat_rig_for(erasing, wechat_sim):
        await bound_member(rig.kefu, channel="wechat", sender=openid, points=5)
        await rig.pusher().text(openid, "/points")
        await rig.pusher().event(openid, "unsubscribe")
        async with rig.kefu.sessions() as session:
            identity = await find_identity(session, channel="wechat", external_id=openid)
            texts = list((await session.execute(select(Message.text))).scalars())
        assert identity is not None and identity.member_id is None
        assert "/points" not in texts
