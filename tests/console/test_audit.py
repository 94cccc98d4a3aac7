"""The audit log in the console, and member exports as a CSRF-protected POST."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from bot.app import Kefu
from bot.core import audit
from bot.core.storage.db import transaction
from tests.conftest import FIXED_NOW
from tests.console.conftest import HTML, JSON, Login
from tests.factories import bound_member


async def audit_rows(kefu: Kefu, action: str) -> list[str | None]:
    async with transaction(kefu.sessions) as session:
        return [entry.subject for entry in await audit.search(session, action=action)]


async def test_a_supervisor_opens_the_audit_log_with_the_session_cookie(login: Login) -> None:
    supervisor = await login("supervisor")
    page = await supervisor.get("/console/audit")
    assert page.status_code == 200
    assert 'href="/console/audit"' in page.text  # in the navigation
    assert "<code>login.ok</code>" in page.text and "<td>agent:wang@kefu.test</td>" in page.text


async def test_agents_may_not_read_the_audit_log(login: Login) -> None:
    agent = await login("agent")
    assert (await agent.get("/console/audit", headers=JSON)).status_code == 403
    page = await agent.get("/console/queue")
    assert 'href="/console/audit"' not in page.text


async def test_filters_narrow_the_log(kefu: Kefu, login: Login) -> None:
    await login("agent")
    supervisor = await login("supervisor")
    async with transaction(kefu.sessions) as session:
        await audit.record(session, actor="operator:root", action=audit.POINTS_ADJUST,
                           subject="M100001", detail={"points": 50, "reason": "goodwill"},
                           now=FIXED_NOW)
    mine = await supervisor.get("/console/audit?actor=agent:li@kefu.test&action=login")
    assert "<td>agent:li@kefu.test</td>" in mine.text
    assert "<td>agent:wang@kefu.test</td>" not in mine.text
    subject = await supervisor.get("/console/audit?subject=M100001&since=&until=")
    assert "<code>points.adjust</code>" in subject.text
    assert "<code>login.ok</code>" not in subject.text
    # FIXED_NOW is 2026-11-23 14:00 in Shanghai; the day before holds nothing.
    yesterday = await supervisor.get("/console/audit?since=2026-11-22&until=2026-11-22")
    assert "No entries match" in yesterday.text
    today = await supervisor.get("/console/audit?since=2026-11-23&until=2026-11-23")
    assert "<code>points.adjust</code>" in today.text
    bad = await supervisor.get("/console/audit?since=23/11/2026")
    assert bad.status_code == 422


async def test_member_export_is_a_post_with_the_csrf_token(kefu: Kefu, app: FastAPI,
                                                           login: Login) -> None:
    await bound_member(kefu, member_no="M100001")
    supervisor = await login("supervisor")
    # Not a GET any more: a link or an <img> on another page cannot export anyone.
    assert (await supervisor.client.get("/console/members/export?member=M100001",
                                        headers=JSON)).status_code == 405
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://kefu.test") as api:
        assert (await api.get("/api/members/M100001/export",
                              headers={"x-test-role": "supervisor"})).status_code == 405
    forged = await supervisor.client.post("/console/members/export",
                                          data={"member": "M100001", "csrf": "forged"},
                                          headers=HTML)
    assert forged.status_code == 403
    assert await audit_rows(kefu, audit.MEMBER_EXPORT) == []

    response = await supervisor.post("/console/members/export", {"member": "M100001"})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="M100001.json"'
    assert json.loads(response.text)["profile"]["phone"] == "+8613900000001"
    assert await audit_rows(kefu, audit.MEMBER_EXPORT) == ["M100001"]
    unknown = await supervisor.post("/console/members/export", {"member": "M999999"})
    assert unknown.status_code == 404


async def test_agents_may_not_export(kefu: Kefu, login: Login) -> None:
    await bound_member(kefu, member_no="M100001")
    agent = await login("agent")
    response = await agent.post("/console/members/export", {"member": "M100001"},
                                headers=JSON)
    assert response.status_code == 403
    assert await audit_rows(kefu, audit.MEMBER_EXPORT) == []
