"""A Telegram simulator per module and a Kefu app wired to it, with its channels running."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr

from bot.app import Kefu, build_kefu
from bot.server.app import create_app
from bot.settings import ServerSettings, Settings
from bot.simulators import TelegramSimConfig, TelegramSimulator, serve_in_thread

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
