"""The web chat in a real browser: the server stored a message but its answer was lost on
the way back; the customer types it again, and it is still one message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import func, select

from bot.app import Kefu, build_kefu
from bot.core.storage.models import Message
from bot.server.asgi import create_app
from bot.settings import Settings
from tests.kefu_process import free_port

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not at /usr/bin/chromium: "
                       "run scripts/install-browser"),
]


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[tuple[str, Kefu]]:
    kefu = await build_kefu(settings)
    app = create_app(kefu, close_on_shutdown=False, background=False)
    port = free_port()
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                            log_level="warning", lifespan="on"))
    task = asyncio.create_task(running.serve())
    for _ in range(200):
        if running.started:
            break
        await asyncio.sleep(0.05)
    assert running.started
    try:
        yield f"http://127.0.0.1:{port}", kefu
    finally:
        running.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        await kefu.aclose()


async def test_a_retype_after_a_lost_answer_is_one_message(server: tuple[str, Kefu]) -> None:
    from playwright.async_api import Response, Route, async_playwright, expect

    url, kefu = server
    bodies: list[dict[str, Any]] = []
    lost: list[Any] = []

    async def network(route: Route) -> None:
        body = route.request.post_data_json
        bodies.append(body)
        if body["message"] == "/help" and not lost:
            answer = await route.fetch()  # the server gets it and stores it…
            lost.append(await answer.json())
            await route.abort("connectionreset")  # …but the answer never arrives
            return
        await route.continue_()

    def webhook(response: Response) -> bool:
        return response.url.endswith("/webhooks/rest/webhook")

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                          args=ARGS)
        try:
            page = await browser.new_page()
            await page.route("**/webhooks/rest/webhook", network)
            async with page.expect_response(webhook) as started:
                await page.goto(url + "/")
            greeting = await (await started.value).json()
            # A stranger's /start is answered with the help and how to link up: counted from
            # the answer itself, so the count below cannot pass before the retype's answer.
            bot = page.locator("#log li.bot")
            await expect(bot).to_have_count(len(greeting))
            await page.fill("#text", "/help")
            await page.press("#text", "Enter")
            await expect(page.locator("#log li.error")).to_contain_text("Network error")
            async with page.expect_response(webhook) as retyped:
                await page.fill("#text", "/help")  # typed again, word for word
                await page.press("#text", "Enter")
            repeated = await (await retyped.value).json()
            await expect(bot).to_have_count(len(greeting) + len(repeated))
        finally:
            await browser.close()

    assert len(lost) == 1 and lost[0]
    assert repeated == lost[0]  # the stored answer again, not a second turn
    helps = [b for b in bodies if b["message"] == "/help"]
    assert len(helps) == 2
    assert helps[0]["message_id"] == helps[1]["message_id"]
    assert bodies[0]["message_id"] != helps[0]["message_id"]
    async with kefu.sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(Message).where(
            Message.channel == "web", Message.direction == "in"))
    assert stored == 2  # /start and one /help
