"""All processes share one WeChat access_token: fetching another would invalidate theirs."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis
from wechatpy.session.redisstorage import RedisStorage

from bot.app import Kefu
from bot.channels.wechat_sender import WeChatSender, make_client
from bot.channels.wechat_session import DatabaseSessionStorage
from bot.core.messages import OutboundMessage
from kefu_sim import WeChatSimConfig, WeChatSimulator, serve_in_thread

APPID, SECRET = "wx00aa11bb22cc33dd", "t" * 32


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[WeChatSimulator, str]]:
    simulator = WeChatSimulator(WeChatSimConfig(appid=APPID, secret=SECRET))
    with serve_in_thread(simulator) as url:
        yield simulator, url


async def send_from_two_processes(simulator: WeChatSimulator, url: str,
                                  storages: list[Any], openid: str) -> None:
    simulator.record_interaction(openid, "message")
    for n, storage in enumerate(storages):
        sender = WeChatSender(make_client(APPID, SECRET, url, session=storage))
        await sender.send(OutboundMessage("wechat", openid, f"hello {n}"))


async def test_database_storage_shares_the_token(kefu: Kefu,
                                                 sim: tuple[WeChatSimulator, str]) -> None:
    simulator, url = sim
    before = simulator.token_fetches
    loop = asyncio.get_running_loop()
    storages = [DatabaseSessionStorage(kefu.sessions, loop) for _ in range(2)]
    openid = "oTok" + secrets.token_hex(10)
    await send_from_two_processes(simulator, url, storages, openid)
    assert len(simulator.sent_to(openid)) == 2
    assert simulator.token_fetches == before + 1


async def test_redis_storage_shares_the_token(sim: tuple[WeChatSimulator, str]) -> None:
    simulator, url = sim
    prefix = f"kefu-test-{secrets.token_hex(4)}"
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        before = simulator.token_fetches
        storages = [RedisStorage(Redis.from_url("redis://127.0.0.1:6379/0"), prefix=prefix)
                    for _ in range(2)]
        openid = "oTok" + secrets.token_hex(10)
        await send_from_two_processes(simulator, url, storages, openid)
        assert len(simulator.sent_to(openid)) == 2
        assert simulator.token_fetches == before + 1
    finally:
        for key in redis.scan_iter(f"{prefix}*"):
            redis.delete(key)
        redis.close()
