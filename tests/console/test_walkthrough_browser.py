"""The first hour in a real browser (Playwright, Debian's Chromium), at desktop and phone
widths: a member asks in three languages and presses buttons (answers stay in the language of
the conversation), complains with urgent words (handed over at once); an agent on a phone
sees the member (masked) with SLA and Claim on screen, claims, sees button labels rather than
payloads, replies with a canned text and closes; the member rates; the supervisor opens the
dashboard. Screenshots go to docs/ only with KEFU_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.console.browser import ARGS, BROWSER_MARKS, CHROMIUM, UPDATE_DOCS, Server

# The real server is the `server` fixture of conftest.py (uvicorn on a free port, demo data,
# fixed clock); the same skips as every browser test.
playwright_api = pytest.importorskip(
    "playwright.async_api", reason="the playwright package is not installed (test extra)")
pytestmark = BROWSER_MARKS

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1360, "height": 860}


async def on_screen(page: Any, locator: Any) -> None:
    """Fully inside the viewport's width: not cut off at the right edge."""
    box = await locator.bounding_box()
    width = page.viewport_size["width"]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (box, width)


async def test_the_first_hour_in_a_browser(server: Server, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    shots = ROOT / "docs" if UPDATE_DOCS else tmp_path
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                          args=ARGS)
        try:
            member = await (await browser.new_context(viewport=PHONE)).new_page()
            await member.clock.set_fixed_time(server.clock.now)
            await member.goto(server.url + "/")
            await member.select_option("#sender", "demo-gold")
            await expect(member.locator("#log li.bot").first).to_be_visible()
            answer = member.locator("#log li.bot").last

            async def typed(text: str, expected: str) -> None:
                await member.fill("#text", text)
                await member.press("#text", "Enter")
                await expect(answer).to_contain_text(expected)

            async def pressed(button: str, expected: str) -> None:
                await member.get_by_role("button", name=button, exact=True).last.click()
                await expect(answer).to_contain_text(expected)

            # Three languages; a button answers in the language the member last wrote in.
            await typed("what tier am I", "You are a")
            await pressed("Benefits", "Gold")
            await typed("我的积分还有多少", "您当前可用积分")
            await typed("我的積分什麼時候過期", "積分")
            # A chosen language wins over the script of later messages.
            await typed("/lang", "/lang zh-Hans")  # lists the choices, each named in itself
            await pressed("English", "in English from now on")
            await typed("我要投诉", "What is it about")
            await pressed("Product", "describe")
            # Urgent words: the case is opened and handed over without more questions.
            await typed("我孩子吃了你们的饼干过敏了", "passed you to a person")
            text = await member.locator("#log").inner_text()
            after = text.split("我孩子吃了你们的饼干过敏了")[-1]
            assert "connecting you with a person right away" in after
            assert "order number" not in after and "Which store" not in after
            await member.screenshot(path=str(shots / "webchat-languages.png"))

            # An agent on a phone: the member (masked) in the queue, SLA and Claim on screen.
            agent = await (await browser.new_context(viewport=PHONE)).new_page()
            await agent.clock.set_fixed_time(server.clock.now)
            await agent.goto(server.url + "/console")
            await agent.fill("input[name=email]", "agent@kefu.demo")
            await agent.fill("input[name=password]", "demo-agent-2026")
            await agent.click("button.primary")
            row = agent.locator("#queue-rows tr.case").first
            await expect(row).to_contain_text("紧急 Urgent")
            await expect(row.locator(".who")).to_contain_text(" · M")
            assert "web:demo-gold" not in await agent.content()
            await on_screen(agent, row.locator("time").first)
            claim = row.get_by_role("button", name="认领 Claim")
            await on_screen(agent, claim)
            await agent.screenshot(path=str(shots / "console-queue-phone.png"))
            await claim.click()

            # The case at desktop width: labels, not payloads; no automatic /start.
            await agent.set_viewport_size(DESKTOP)
            timeline = agent.locator("#timeline")
            await expect(timeline.locator(".chip.pressed").first).to_be_visible()
            said = "\n".join(await timeline.locator(".msg.in .text").all_inner_texts())
            for payload in ("/category", "/start", "/lang en", "/benefits"):
                assert payload not in said, payload
            for label in ("Benefits", "English", "Product", "/lang"):  # /lang was typed
                assert label in said, label
            await agent.select_option("#canned", index=2)
            await agent.click("#reply-form button.primary")
            await expect(timeline.locator(".msg.agent").last).to_be_visible()
            await agent.select_option("#close-form select", "resolved")
            await agent.click("#close")
            await expect(agent.locator(".badge.s-closed")).to_be_visible()

            # The member rates, in English, the language of the conversation.
            await expect(member.locator("#log")).to_contain_text("How would you rate", timeout=10_000)
            await pressed("5 Excellent", "Anything you'd like to add")
            await pressed("Skip", "Thank")

            # The supervisor's dashboard.
            await agent.click("button.link")
            await agent.fill("input[name=email]", "supervisor@kefu.demo")
            await agent.fill("input[name=password]", "demo-supervisor-2026")
            await agent.click("button.primary")
            await agent.goto(server.url + "/console/supervisor")
            await expect(agent.locator(".metric").first).to_be_visible()
        finally:
            await browser.close()
