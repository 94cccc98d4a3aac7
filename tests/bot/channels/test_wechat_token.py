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
from bot.channels.wechat.sender import WeChatSender, make_client
from bot.channels.wechat.session import DatabaseSessionStorage
from bot.channels.wechat.token import RedisLockingStorage
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


async def send_at_once(simulator: WeChatSimulator, url: str, storages: list[Any],
                       per_process: int) -> int:
    """Every "process" (a client over its own storage) sends ``per_process`` messages at
    once, each from its own thread, as the dispatcher does after a start (one user each:
    WeChat allows a user 5 messages per interaction). Returns how many arrived."""
    senders = [WeChatSender(make_client(APPID, SECRET, url, session=storage))
               for storage in storages]
    openids = ["oTok" + secrets.token_hex(10) for _ in range(len(senders) * per_process)]
    for openid in openids:
        simulator.record_interaction(openid, "message")
    await asyncio.gather(*(sender.send(OutboundMessage("wechat", openid, "hi"))
                           for openid, sender in zip(openids, senders * per_process,
                                                     strict=True)))
    return sum(len(simulator.sent_to(openid)) for openid in openids)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"kefu-test-{secrets.token_hex(4)}"
    yield prefix
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    for key in redis.scan_iter(f"{prefix}*"):
        redis.delete(key)
    redis.close()


async def test_concurrent_first_sends_fetch_one_token(
        sim: tuple[WeChatSimulator, str], redis_prefix: str) -> None:
    simulator, url = sim
    simulator.expire_tokens()  # a token left by another test must not be found here
    before = simulator.token_fetches
    storages = [RedisLockingStorage(Redis.from_url("redis://127.0.0.1:6379/0"),
                                    prefix=redis_prefix) for _ in range(2)]
    assert await send_at_once(simulator, url, storages, per_process=4) == 8
    assert simulator.token_fetches == before + 1


async def test_concurrent_sends_with_a_refused_token_fetch_one_new_token(
        sim: tuple[WeChatSimulator, str], redis_prefix: str) -> None:
    simulator, url = sim
    storages = [RedisLockingStorage(Redis.from_url("redis://127.0.0.1:6379/0"),
                                    prefix=redis_prefix) for _ in range(2)]
    assert await send_at_once(simulator, url, storages[:1], per_process=1) == 1
    simulator.expire_tokens()  # every send below is refused once with 42001
    before = simulator.token_fetches
    assert await send_at_once(simulator, url, storages, per_process=4) == 8
    assert simulator.token_fetches == before + 1


async def test_database_lock_makes_concurrent_processes_fetch_one_token(
        kefu: Kefu, sim: tuple[WeChatSimulator, str]) -> None:
    simulator, url = sim
    loop = asyncio.get_running_loop()
    prefix = f"wechatpy-{secrets.token_hex(4)}"  # no token stored under it yet
    storages = [DatabaseSessionStorage(kefu.sessions, loop, prefix=prefix) for _ in range(2)]
    before = simulator.token_fetches
    assert await send_at_once(simulator, url, storages, per_process=3) == 6
    assert simulator.token_fetches == before + 1


def test_database_lock_is_held_by_one_owner_until_released(kefu: Kefu) -> None:
    """The kv_store lock: a second taker is refused until the first releases it."""

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        first, second = (DatabaseSessionStorage(kefu.sessions, loop) for _ in range(2))
        name = f"lock-{secrets.token_hex(4)}"
        release = await asyncio.to_thread(first.try_lock, name, seconds=30)
        assert release is not None
        assert await asyncio.to_thread(second.try_lock, name, seconds=30) is None
        await asyncio.to_thread(release)
        again = await asyncio.to_thread(second.try_lock, name, seconds=30)
        assert again is not None
        await asyncio.to_thread(again)

    asyncio.run(scenario())
