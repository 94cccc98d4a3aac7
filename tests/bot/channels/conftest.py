"""A Telegram simulator per module and a Kefu app wired to it, with its channels running."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import httpx
import pytest
from pydantic import SecretStr

from bot.app import Kefu, build_kefu
from bot.server.asgi import create_app
from bot.settings import ChannelsSettings, ServerSettings, Settings, WechatSettings
from kefu_sim import (
    TelegramSimConfig,
    TelegramSimulator,
    WeChatPusher,
    WeChatSimConfig,
    WeChatSimulator,
    serve_in_thread,
)
from nlu.protocol import NluBackend

T = TypeVar("T")
TG_TOKEN = "123456789:AAE-kefu-test-token"
TG_SECRET = "kefu-webhook-secret"


@pytest.fixture(scope="module")
def telegram_sim() -> Iterator[tuple[TelegramSimulator, str]]:
    sim = TelegramSimulator(TelegramSimConfig(token=TG_TOKEN))
    with serve_in_thread(sim) as url:
        yield sim, url


@dataclass
class TelegramRig:
    sim: TelegramSimulator
    client: httpx.AsyncClient
    kefu: Kefu

    async def push(self, update: dict[str, object], *, secret: str | None = TG_SECRET
                   ) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return await self.client.post("/webhooks/telegram", json=update, headers=headers)


async def wait_for(condition: Callable[[], bool], within: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def telegram_rig(settings: Settings, telegram_sim: tuple[TelegramSimulator, str]
                       ) -> AsyncIterator[TelegramRig]:
    sim, url = telegram_sim
    sim.reset_records()
    configured = settings.model_copy(update={
        "telegram_bot_token": SecretStr(TG_TOKEN),
        "telegram_webhook_secret": SecretStr(TG_SECRET),
        "telegram_api_base_url": url,
        "server": ServerSettings(public_url="https://kefu.example.com"),
    })
    kefu = await build_kefu(configured)
    app = create_app(kefu)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kefu.test") as client:
        yield TelegramRig(sim, client, kefu)


WX_TOKEN, WX_APPID, WX_SECRET = "kefu-wx-token", "wx5f1e0d2c3b4a6978", "w" * 32
WX_AES = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WX_OLD_AES = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"


@pytest.fixture(scope="module")
def wechat_sim() -> Iterator[tuple[WeChatSimulator, str]]:
    sim = WeChatSimulator(WeChatSimConfig(appid=WX_APPID, secret=WX_SECRET))
    with serve_in_thread(sim) as url:
        yield sim, url


@dataclass
class WeChatRig:
    sim: WeChatSimulator
    client: httpx.AsyncClient
    kefu: Kefu

    def pusher(self, *, mode: str = "safe", key: str = WX_AES, timeout: float = 5.0
               ) -> WeChatPusher:
        return self.sim.pusher("http://kefu.test/webhooks/wechat", token=WX_TOKEN,
                               encoding_aes_key=key, mode=mode,  # type: ignore[arg-type]
                               timeout=timeout, client=self.client)


async def wechat_rig_for(settings: Settings, sim_url: tuple[WeChatSimulator, str], *,
                         nlu: NluBackend | None = None, passive_seconds: float = 4.5,
                         aes: bool = True, accept_plain: bool = False,
                         replay_window: int = 300, redis_url: str | None = None
                         ) -> AsyncIterator[WeChatRig]:
    """Without ``aes`` the account is in plain mode (no EncodingAESKey configured)."""
    sim, url = sim_url
    configured = settings.model_copy(update={
        "wechat_token": SecretStr(WX_TOKEN), "wechat_app_id": WX_APPID,
        "wechat_app_secret": SecretStr(WX_SECRET),
        "wechat_aes_key": SecretStr(WX_AES) if aes else None,
        "wechat_aes_key_previous": SecretStr(WX_OLD_AES) if aes else None,
        "wechat_api_base_url": url, "redis_url": redis_url,
        "channels": ChannelsSettings(wechat=WechatSettings(
            passive_reply_seconds=passive_seconds, accept_plain=accept_plain,
            replay_window_seconds=replay_window)),
    })
    kefu = await build_kefu(configured, nlu=nlu)
    app = create_app(kefu)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kefu.test") as client:
        yield WeChatRig(sim, client, kefu)


@pytest.fixture
async def wechat_rig(settings: Settings, wechat_sim: tuple[WeChatSimulator, str]
                     ) -> AsyncIterator[WeChatRig]:
    async for rig in wechat_rig_for(settings, wechat_sim):
        yield rig


async def eventually(probe: Callable[[], Awaitable[T]], within: float = 15.0) -> T:
    """Polls an async probe until it returns something truthy; returns that."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
