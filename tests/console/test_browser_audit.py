"""A supervisor reads the audit log and exports a member in a real browser (Playwright
driving Debian's Chromium against a real server): the session cookie reaches the audit page,
filters work, and the export is a POST carrying the page's CSRF token."""

from __future__ import annotations

import json
from pathlib import Path

from bot.core import audit
from bot.core.storage.db import transaction
from tests.conftest import ROOT
from tests.console.test_browser import ARGS, CHROMIUM, UPDATE_DOCS, Server, pytestmark, server

__all__ = ["pytestmark", "server"]  # the module's marks and the live server fixture


async def test_a_supervisor_audits_and_exports_in_a_browser(server: Server,
                                                            tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    shots = ROOT / "docs" if UPDATE_DOCS else tmp_path
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                          args=ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1360, "height": 860},
                                                locale="zh-CN", accept_downloads=True)
            page = await context.new_page()
            await page.clock.set_fixed_time(server.clock.now)
            # Earlier work to audit: an agent signs in, someone mistypes a password.
            for email, password in (("agent@kefu.demo", "wrong-password-1"),
                                    ("agent@kefu.demo", "demo-agent-2026")):
                await page.goto(server.url + "/console/login")
                await page.fill("input[name=email]", email)
                await page.fill("input[name=password]", password)
                await page.click("button.primary")
            await context.clear_cookies()

            await page.goto(server.url + "/console/login")
            await page.fill("input[name=email]", "supervisor@kefu.demo")
            await page.fill("input[name=password]", "demo-supervisor-2026")
            await page.click("button.primary")
            await page.click("nav >> text=审计 Audit")
            await expect(page.locator("h1")).to_contain_text("审计日志")
            rows = page.locator("table.audit tbody tr")
            await expect(rows.first).to_contain_text("login.ok")
            await expect(page.locator("table.audit")).to_contain_text("login.failed")

            # Filter: only failures.
            await page.select_option("select[name=action]", "login.failed")
            await page.click("form.filters button")
            await expect(rows).to_have_count(1)
            await expect(rows.first).to_contain_text("agent:agent@kefu.demo")
            await page.screenshot(path=str(shots / "console-audit.png"), full_page=True)

            # Export a member: a form POST with the CSRF token, downloaded as JSON, audited.
            await page.fill("input[name=member]", "M000002")
            async with page.expect_download() as waiting:
                await page.click("text=导出 JSON · Export JSON")
            download = await waiting.value
            saved = tmp_path / "export.json"
            await download.save_as(str(saved))
            exported = json.loads(saved.read_text(encoding="utf-8"))
            assert exported["profile"]["member_no"] == "M000002"
            await page.goto(server.url + "/console/audit?action=member.export")
            await expect(rows.first).to_contain_text("M000002")
        finally:
            await browser.close()
    async with transaction(server.kefu.sessions) as session:
        (entry,) = await audit.search(session, action=audit.MEMBER_EXPORT)
    assert entry.actor == "agent:supervisor@kefu.demo" and entry.detail == {"via": "console"}
