"""The quarterly review in a real browser under the console's strict CSP: a supervisor signs
in, opens the review of the demo history, sees each KPI with its target and the charts drawn,
and switches quarter. KEFU_UPDATE_SCREENSHOTS=1 writes docs/console-review.png."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn

from bot.app import Kefu, build_kefu
from bot.console.demo import seed_console
from bot.core.storage.db import transaction
from bot.features.demo.history import seed_history
from bot.features.demo.seed import seed_demo
from bot.server.asgi import create_app
from bot.settings import Settings
from tests.conftest import FIXED_NOW, ROOT
from tests.console.test_browser import ARGS, CHROMIUM, UPDATE_DOCS, free_port

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="the playwright package is not installed (test extra)")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at "
                       "/usr/bin/chromium: run scripts/install-browser (needs apt-get)"),
]


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[tuple[str, Kefu]]:
    kefu = await build_kefu(settings, clock=lambda: FIXED_NOW)
    async with transaction(kefu.sessions) as session:
        await seed_demo(session, directory=kefu.directory, settings=settings, now=FIXED_NOW)
        await seed_console(session, now=FIXED_NOW)
        await seed_history(session, settings=settings, now=FIXED_NOW)
    app = create_app(kefu, close_on_shutdown=False, background=False)
    app.state.console_clock = lambda: FIXED_NOW
    port = free_port()
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                            log_level="warning", lifespan="on"))
    task = asyncio.create_task(running.serve())
    for _ in range(200):
        if running.started:
            break
        await asyncio.sleep(0.05)
    assert running.started, "the test server did not start"
    try:
        yield f"http://127.0.0.1:{port}", kefu
    finally:
        running.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        await kefu.aclose()


async def test_supervisor_reads_the_quarterly_review(server: tuple[str, Kefu],
                                                     tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    url, _kefu = server
    shots = ROOT / "docs" if UPDATE_DOCS else tmp_path
    problems: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                          args=ARGS)
        try:
            page = await (await browser.new_context(
                viewport={"width": 1280, "height": 900}, locale="zh-CN")).new_page()
            # A CSP refusal shows up as a console error: the charts must need none.
            page.on("console", lambda m: problems.append(m.text) if m.type == "error"
                    and "Failed to load resource" not in m.text else None)
            # Failed loads are checked by address: a missing favicon is no problem of ours.
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            await page.goto(url + "/console")
            await page.fill("input[name=email]", "supervisor@kefu.demo")
            await page.fill("input[name=password]", "demo-supervisor-2026")
            await page.click("button.primary")
            await page.get_by_role("link", name="回顾 Review").click()
            await expect(page.locator("h1")).to_contain_text("KPI review 2026Q4")

            handled = page.locator('tr[data-kpi="handled_within_48h"] td')
            await expect(handled.nth(1)).to_have_text(re.compile(r"^\d+\.\d%$"))
            await expect(handled.nth(2)).to_have_text("90.0%")
            await expect(page.locator('tr[data-kpi="csat_satisfied"] td').nth(2)).to_have_text(
                "85.0%")
            charts = page.locator("svg.chart")
            assert await charts.count() >= 6
            for index in range(await charts.count()):
                box = await charts.nth(index).bounding_box()
                assert box is not None and box["width"] > 200 and box["height"] > 20
            # The target chart drew its bars: rectangles with a width.
            assert await page.locator("svg.chart").first.locator("rect").count() > 10
            await page.screenshot(path=str(shots / "console-review.png"), full_page=True)

            await page.select_option("select[name=quarter]", "2026Q3")
            await page.select_option("select[name=channel]", "wechat")
            await page.get_by_role("button", name="查看 Show").click()
            await expect(page.locator("h1")).to_contain_text("KPI review 2026Q3")
            await expect(page.locator(".kpi-scope")).to_contain_text("channel wechat")
            await expect(page.locator(".kpi-scope")).to_contain_text("2026Q2")
        finally:
            await browser.close()
    assert problems == []
