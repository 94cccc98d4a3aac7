"""The whole story in a real browser (Playwright driving Debian's Chromium) against a real
server: a customer complains on the web chat, an agent sees the case appear without
reloading, claims it and replies, the customer sees the reply, the agent closes the case and
the customer is asked for a rating. Screenshots of the console land in docs/.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bot.app import Kefu, build_kefu
from bot.cli.nlu_setup import build_nlu
from bot.console.demo import seed_console
from bot.core.messages import InboundMessage
from bot.core.storage.db import transaction
from bot.features.demo.seed import seed_demo
from bot.server.asgi import create_app
from bot.settings import Settings
from tests.cases.helpers import Clock
from tests.conftest import FIXED_NOW, ROOT

CHROMIUM = Path("/usr/bin/chromium")
# Screenshots go to docs/ only when asked (KEFU_UPDATE_SCREENSHOTS=1), so that an ordinary
# test run leaves the checkout unchanged; otherwise to the test's temporary directory.
UPDATE_DOCS = os.environ.get("KEFU_UPDATE_SCREENSHOTS") == "1"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ATTACK = '<img src=x onerror="alert(1)"><script>alert(2)</script>'

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="the playwright package is not installed (test extra)")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at "
                       "/usr/bin/chromium: run scripts/install-browser (needs apt-get)"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    url: str
    kefu: Kefu
    clock: Clock


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    clock = Clock(FIXED_NOW - timedelta(hours=3, minutes=30))  # Monday 10:30 in Shanghai
    kefu = await build_kefu(settings, nlu=build_nlu(settings), clock=clock)
    async with transaction(kefu.sessions) as session:
        await seed_demo(session, directory=kefu.directory, settings=settings, now=FIXED_NOW)
        await seed_console(session, now=FIXED_NOW)
    app = create_app(kefu, close_on_shutdown=False, background=False)
    app.state.console_clock = clock
    app.state.console_poll_seconds = 0.2
    app.state.web_poll_seconds = 0.2
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on")
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve())
    for _ in range(200):  # up to 10 s for the server to listen
        if running.started:
            break
        await asyncio.sleep(0.05)
    assert running.started, "the test server did not start"
    try:
        yield Server(f"http://127.0.0.1:{port}", kefu, clock)
    finally:
        running.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        await kefu.aclose()


async def earlier_cases(server: Server) -> None:
    """Other work already in the queue, opened over the morning: one breached, one close to
    its deadline, one with time to spare."""
    async def say(sender: str, text: str) -> None:
        await server.kefu.dialogue.handle(
            InboundMessage("web", sender, text, server.clock.now))

    await say("visitor-morning", "/human_agent")          # 10:30, normal: due 14:30
    server.clock.now = FIXED_NOW - timedelta(hours=3)       # 11:00
    for text in ("/complaint", "/category delivery", "快递四天了还没到，物流一直不更新",
                 "SO2026112000318"):
        await say("demo-diamond", text)                     # high: due 13:00, breached
    server.clock.now = FIXED_NOW - timedelta(minutes=30)    # 13:30
    for text in ("/suggestion", "/category service", "希望静安店周末能多开一个收银台", "/skip"):
        await say("demo-silver", text)                      # low: due tomorrow
    server.clock.now = FIXED_NOW                             # 14:00


async def test_complaint_to_reply_to_rating_in_a_browser(server: Server, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    shots = ROOT / "docs" if UPDATE_DOCS else tmp_path
    shots.mkdir(exist_ok=True)

    def minutes_later(page: Any, minutes: int) -> Any:
        server.clock.now += timedelta(minutes=minutes)
        return page.clock.set_fixed_time(server.clock.now)

    await earlier_cases(server)
    dialogs: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                          args=ARGS)
        try:
            agent = await (await browser.new_context(
                viewport={"width": 1360, "height": 860}, locale="zh-CN")).new_page()
            customer = await (await browser.new_context(
                viewport={"width": 520, "height": 860}, locale="zh-CN")).new_page()
            for page in (agent, customer):
                page.on("dialog", lambda d: dialogs.append(d.message))
                await page.clock.set_fixed_time(server.clock.now)

            # The agent signs in and watches the queue.
            await agent.goto(server.url + "/console")
            await agent.fill("input[name=email]", "agent@kefu.demo")
            await agent.fill("input[name=password]", "demo-agent-2026")
            await agent.click("button.primary")
            await expect(agent.locator("h1")).to_contain_text("待处理工单")
            await expect(agent.locator("#live")).to_be_visible()
            await agent.evaluate("window.stillTheSamePage = true")

            # The customer complains on the web chat, in their own words.
            await customer.goto(server.url + "/")
            await customer.select_option("#sender", "demo-gold")
            await expect(customer.locator("#log li.bot").first).to_be_visible()
            last_answer = customer.locator("#log li.bot").last

            async def typed(text: str, answer: str) -> None:
                await customer.fill("#text", text)
                await customer.press("#text", "Enter")
                await expect(last_answer).to_contain_text(answer)
                server.clock.now += timedelta(seconds=20)  # people take a moment to answer

            async def tapped(button: str, answer: str) -> None:
                await customer.get_by_role("button", name=button).last.click()
                await expect(last_answer).to_contain_text(answer)
                server.clock.now += timedelta(seconds=20)

            await typed("我要投诉", "哪方面")
            await tapped("产品质量", "请描述")
            await typed("昨天在静安店买的蛋糕里有一根头发 " + ATTACK, "订单号")
            await tapped("跳过", "哪家门店")
            await tapped("跳过", "工单号：C-20261123-")
            number = await case_number(customer)

            # It appears in the agent's queue without a reload.
            row = agent.locator("#queue-rows tr", has_text=number)
            await expect(row).to_be_visible(timeout=10_000)
            assert await agent.evaluate("window.stillTheSamePage") is True
            await minutes_later(agent, 18)
            await agent.reload()
            await expect(agent.locator("time.u-breached").first).to_be_visible()
            await agent.screenshot(path=str(shots / "console-queue.png"))

            # The agent claims it and answers.
            await row.get_by_role("button", name="认领 Claim").click()
            await minutes_later(agent, 2)
            await expect(agent.locator(".case-head h1")).to_contain_text(number)
            await agent.select_option("#canned", index=2)  # the apology, variables filled
            await expect(agent.locator("#reply-text")).to_have_value(re.compile(number))
            await agent.locator("#reply-text").press("End")
            await agent.locator("#reply-text").press_sequentially("请问蛋糕还在吗？我们会为您全额退款。")
            await agent.click("#reply-form button.primary")
            await expect(agent.locator("#timeline .msg.agent").last).to_contain_text("全额退款")
            await minutes_later(agent, 1)
            await agent.fill("#note-text", "已联系静安店核查当天批次")
            await agent.click(".note-form button")
            await expect(agent.locator("#timeline .note")).to_contain_text("批次")
            await customer.evaluate("window.stillTheSamePage = true")

            # The customer sees the reply arrive in the open chat.
            agent_lines = customer.locator("#log li.agent")
            await expect(agent_lines.last).to_contain_text("全额退款", timeout=10_000)
            await expect(agent_lines.first).to_contain_text("李华")
            await minutes_later(customer, 2)
            await customer.fill("#text", "还在的，谢谢")
            await customer.press("#text", "Enter")
            await expect(agent.locator("#timeline .msg.in").last).to_contain_text(
                "还在的，谢谢", timeout=10_000)
            assert await customer.evaluate("window.stillTheSamePage") is True
            await agent.screenshot(path=str(shots / "console-case.png"), full_page=True)

            # The agent closes it; the customer is asked for a rating and gives one.
            await agent.select_option("#close-form select", "refund")
            await agent.click("#close")
            await expect(agent.locator(".badge.s-closed")).to_be_visible()
            await expect(customer.locator("#log")).to_contain_text("请为本次服务打分",
                                                                   timeout=10_000)
            await customer.get_by_role("button", name="5 非常满意").click()
            await expect(customer.locator("#log li.bot").last).to_contain_text("还有什么想对我们说")
            await customer.fill("#text", "处理得很快")
            await customer.press("#text", "Enter")
            await expect(customer.locator("#log li.bot").last).to_contain_text("感谢您的反馈")
            await customer.screenshot(path=str(shots / "webchat-agent-reply.png"))

            # The supervisor's view of the same morning.
            await agent.click("button.link")  # sign out
            await agent.fill("input[name=email]", "supervisor@kefu.demo")
            await agent.fill("input[name=password]", "demo-supervisor-2026")
            await agent.click("button.primary")
            await agent.goto(server.url + "/console/supervisor")
            await expect(agent.locator(".metric").first).to_be_visible()
            await agent.screenshot(path=str(shots / "console-supervisor.png"))
        finally:
            await browser.close()
    assert dialogs == [], f"customer text ran as script: {dialogs}"
    await check_stored(server, number)


async def case_number(page: Any) -> str:
    text = await page.locator("#log").inner_text()
    found = re.findall(r"C-\d{8}-\d{4}", text)
    assert found, text
    return str(found[-1])


async def check_stored(server: Server, number: str) -> None:
    from bot.features.cases import store

    async with transaction(server.kefu.sessions) as session:
        case = await store.find_case(session, number=number)
    assert case is not None
    assert (case.status, case.resolution_code, case.csat_score, case.csat_comment) == (
        "closed", "refund", 5, "处理得很快")
    assert case.first_responded_at is not None
    assert ATTACK in case.description  # stored as typed, only ever shown escaped
