"""A captured WeChat push URL cannot be replayed: through the real webhook, on both databases
and with Redis. In plain mode the signature covers only token, timestamp and nonce, so the
query string alone would otherwise sign any message."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from bot.app import Kefu
from bot.channels.wechat_replay import KEY_PREFIX
from bot.core.storage.models import KeyValue, Message, OutboxMessage, PointTransaction
from bot.settings import Settings
from kefu_sim import WeChatSimulator, parse_xml, render_xml, signature, text_message
from tests.bot.channels.conftest import WX_AES, WX_APPID, WX_TOKEN, WeChatRig, wechat_rig_for
from tests.factories import bound_member

REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def openid() -> str:
    return "oR" + uuid.uuid4().hex[:26]


def signed_query(*, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = str(secrets.randbelow(10**10))
    return {"timestamp": ts, "nonce": nonce, "signature": signature(WX_TOKEN, ts, nonce)}


def text_xml(openid: str, content: str, msg_id: int) -> bytes:
    return render_xml(text_message(content, openid=openid, msg_id=msg_id,
                                   create_time=int(time.time()))).encode()


def encrypted(params: dict[str, str], xml: bytes) -> tuple[dict[str, str], bytes]:
    """The safe-mode form of a push: only Encrypt in the body, msg_signature over it."""
    encrypt = PrpCrypto(WeChatCrypto(WX_TOKEN, WX_AES, WX_APPID).key).encrypt(
        xml.decode(), WX_APPID).decode()
    query = {**params, "encrypt_type": "aes",
             "msg_signature": signature(WX_TOKEN, params["timestamp"], params["nonce"], encrypt)}
    return query, render_xml({"ToUserName": "gh_kefu", "Encrypt": encrypt}).encode()


async def post(rig: WeChatRig, params: dict[str, str], body: bytes) -> httpx.Response:
    return await rig.client.post("/webhooks/wechat", params=params, content=body,
                                 headers={"Content-Type": "text/xml"})


def reply_text(response: httpx.Response) -> str:
    return parse_xml(response.text)["Content"]


async def stored(rig: WeChatRig) -> tuple[int, int, int]:
    """Messages, outbox rows and point transactions: what a replay must not change."""
    async with rig.kefu.sessions() as session:
        return tuple([int(await session.scalar(select(func.count()).select_from(model)) or 0)
                      for model in (Message, OutboxMessage, PointTransaction)])  # type: ignore[return-value]


@pytest.fixture
async def plain_rig(settings: Settings, wechat_sim: tuple[WeChatSimulator, str]
                    ) -> AsyncIterator[WeChatRig]:
    """An account in plain mode (no EncodingAESKey): where a replay would otherwise work."""
    async for rig in wechat_rig_for(settings, wechat_sim, aes=False):
        yield rig


async def test_a_signed_query_replayed_with_another_message_is_refused(
        plain_rig: WeChatRig, openid: str) -> None:
    await bound_member(plain_rig.kefu, channel="wechat", sender=openid, points=5000)
    query = signed_query()
    first = await post(plain_rig, query, text_xml(openid, "/points", 1001))
    assert first.status_code == 200 and "5,000" in reply_text(first)
    before = await stored(plain_rig)
    # Someone who saw the push URL reuses its query for a message of their own.
    replay = await post(plain_rig, query, text_xml(openid, "/points_redeem coffee", 1002))
    assert replay.status_code == 403
    assert "already used" in replay.json()["error"]
    other_sender = await post(plain_rig, query, text_xml("o" + "x" * 27, "/points", 1003))
    assert other_sender.status_code == 403
    assert await stored(plain_rig) == before  # nothing stored, queued or redeemed


async def test_an_exact_retry_gets_the_same_answer(plain_rig: WeChatRig, openid: str) -> None:
    await bound_member(plain_rig.kefu, channel="wechat", sender=openid, points=1234)
    query, body = signed_query(), text_xml(openid, "/points", 2001)
    answers = [await post(plain_rig, query, body) for _ in range(3)]  # WeChat tries 3 times
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({reply_text(a) for a in answers}) == 1 and "1,234" in reply_text(answers[0])
    async with plain_rig.kefu.sessions() as session:
        inbound = await session.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "in"))
    assert inbound == 1


@pytest.mark.parametrize("age", [330, -330, 86_400, 10**9])  # the window is 300 s
async def test_a_timestamp_outside_the_window_is_refused(plain_rig: WeChatRig, openid: str,
                                                        age: int) -> None:
    query = signed_query(timestamp=max(0, int(time.time()) - age))
    response = await post(plain_rig, query, text_xml(openid, "/help", 3001))
    assert response.status_code == 403
    assert "window" in response.json()["error"]
    assert await stored(plain_rig) == (0, 0, 0)


async def test_a_timestamp_inside_the_window_is_accepted(plain_rig: WeChatRig,
                                                         openid: str) -> None:
    response = await post(plain_rig, signed_query(timestamp=int(time.time()) - 200),
                          text_xml(openid, "/help", 3002))
    assert response.status_code == 200 and reply_text(response)


async def test_the_window_is_configurable(settings: Settings,
                                          wechat_sim: tuple[WeChatSimulator, str],
                                          openid: str) -> None:
    async for rig in wechat_rig_for(settings, wechat_sim, aes=False, replay_window=60):
        old = await post(rig, signed_query(timestamp=int(time.time()) - 100),
                         text_xml(openid, "/help", 3003))
        assert old.status_code == 403 and "60 s window" in old.json()["error"]


async def test_a_plain_push_to_a_safe_mode_account_is_refused(
        settings: Settings, wechat_sim: tuple[WeChatSimulator, str], openid: str) -> None:
    async for rig in wechat_rig_for(settings, wechat_sim):  # WECHAT_AES_KEY is set
        await bound_member(rig.kefu, channel="wechat", sender=openid, points=777)
        refused = await post(rig, signed_query(), text_xml(openid, "/points", 4001))
        assert refused.status_code == 403
        assert "accept_plain" in refused.json()["error"]
        assert await stored(rig) == (0, 0, 1)  # only the test member's own points
        query, body = encrypted(signed_query(), text_xml(openid, "/points", 4002))
        answered = await post(rig, query, body)
        assert answered.status_code == 200 and "Encrypt" in parse_xml(answered.text)
    async for rig in wechat_rig_for(settings, wechat_sim, accept_plain=True):
        allowed = await post(rig, signed_query(), text_xml(openid, "/help", 4003))
        assert allowed.status_code == 200 and reply_text(allowed)


async def test_safe_mode_retries_pass_and_a_reused_query_is_refused(
        wechat_rig: WeChatRig, openid: str) -> None:
    await bound_member(wechat_rig.kefu, channel="wechat", sender=openid, points=900)
    query, body = encrypted(signed_query(), text_xml(openid, "/points", 5001))
    first, retry = await post(wechat_rig, query, body), await post(wechat_rig, query, body)
    assert first.status_code == retry.status_code == 200
    assert first.text and retry.text
    # msg_signature binds the body in safe mode already; a query that comes back with
    # another (correctly signed) message is refused all the same.
    plain_part = {k: query[k] for k in ("timestamp", "nonce", "signature")}
    other_query, other_body = encrypted(plain_part, text_xml(openid, "/help", 5002))
    assert (await post(wechat_rig, other_query, other_body)).status_code == 403
    async with wechat_rig.kefu.sessions() as session:
        inbound = await session.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "in"))
    assert inbound == 1


async def test_replays_are_remembered_in_redis_when_configured(
        settings: Settings, wechat_sim: tuple[WeChatSimulator, str], openid: str) -> None:
    redis: Redis[bytes] = Redis.from_url(REDIS_URL)
    async for rig in wechat_rig_for(settings, wechat_sim, aes=False, redis_url=REDIS_URL):
        await bound_member(rig.kefu, channel="wechat", sender=openid, points=4321)
        query, body = signed_query(), text_xml(openid, "/points", 6001)
        assert (await post(rig, query, body)).status_code == 200
        before = await stored(rig)
        replay = await post(rig, query, text_xml(openid, "/points_redeem coffee", 6002))
        assert replay.status_code == 403
        retry = await post(rig, query, body)  # WeChat's retry: the same bytes
        assert retry.status_code == 200 and "4,321" in reply_text(retry)
        assert await stored(rig) == before
        # Kept in Redis for the window, not in the database.
        key = hashlib.sha256("\n".join((query["signature"], query["timestamp"],
                                        query["nonce"])).encode()).hexdigest()
        assert 0 < await redis.ttl("kefu:wxq:" + key) <= 301
        async with rig.kefu.sessions() as session:
            in_database = await session.scalar(select(func.count()).select_from(KeyValue).where(
                KeyValue.key.startswith(KEY_PREFIX)))
        assert in_database == 0
        await redis.delete("kefu:wxq:" + key)
    await redis.aclose()


async def test_a_push_with_a_doctype_is_refused(plain_rig: WeChatRig, openid: str) -> None:
    """WeChat never sends a DTD; one without any entity is refused all the same."""
    body = b'<?xml version="1.0"?><!DOCTYPE xml>' + text_xml(openid, "/help", 7001)
    response = await post(plain_rig, signed_query(), body)
    assert response.status_code == 400
    assert await stored(plain_rig) == (0, 0, 0)
    assert (await post(plain_rig, signed_query(), text_xml(openid, "/help", 7001))
            ).status_code == 200


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def test_without_redis_the_database_remembers_and_expired_queries_are_swept(
        kefu: Kefu) -> None:
    from bot.channels.wechat import WeChatRequestError
    from bot.channels.wechat_replay import ReplayGuard

    clock = FakeClock()
    # Redis configured but down (a closed port): the database stands in.
    guard = ReplayGuard(kefu.sessions, window=300, clock=clock,
                        redis_url=f"redis://127.0.0.1:{_closed_port()}/0")
    query = signed_query(timestamp=int(clock.now))
    await guard.admit(query, digest="a")
    await guard.admit(query, digest="a")  # a retry
    with pytest.raises(WeChatRequestError) as refused:
        await guard.admit(query, digest="b")
    assert refused.value.status == 403
    async with kefu.sessions() as session:
        kept = await session.scalar(select(func.count()).select_from(KeyValue).where(
            KeyValue.key.startswith(KEY_PREFIX)))
    assert kept == 1
    clock.now += 400  # the query's timestamp has left the window: refused for its age ...
    with pytest.raises(WeChatRequestError):
        await guard.admit(query, digest="a")
    await guard.admit(signed_query(timestamp=int(clock.now)), digest="c")
    async with kefu.sessions() as session:  # ... and its row was swept on the way
        keys = list(await session.scalars(select(KeyValue.key).where(
            KeyValue.key.startswith(KEY_PREFIX))))
    assert len(keys) == 1
    await guard.aclose()


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
