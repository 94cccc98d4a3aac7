"""Working a case in the console: claim, reply through the outbox, notes, canned replies,
transfer, close; bad input changes nothing and says why."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.core.storage.members import find_identity
from bot.core.storage.models import Message, OutboxMessage
from bot.core.storage.models_cases import CannedReply, CaseEvent
from bot.features.cases import store
from tests.cases.helpers import Clock, dialogue, file_complaint, get_case, say
from tests.conftest import FIXED_NOW
from tests.console.conftest import JSON, Login
from tests.factories import bound_member


async def outbox_rows(kefu: Kefu) -> list[OutboxMessage]:
    async with transaction(kefu.sessions) as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id)))
                    .scalars())


async def event_count(kefu: Kefu) -> int:
    async with transaction(kefu.sessions) as session:
        return int(await session.scalar(select(func.count()).select_from(CaseEvent)) or 0)


async def test_claim_reply_note_close(kefu: Kefu, login: Login) -> None:
    case = await file_complaint(kefu, dialogue(kefu, Clock()))
    li = await login("agent")
    queue = (await li.get("/console/queue")).text
    assert case.number in queue and "认领 Claim" in queue
    assert (await li.post(f"/console/cases/{case.id}/claim")).status_code == 303
    reply = await li.post(f"/console/cases/{case.id}/reply", {"text": "您好，已经在处理了"})
    assert reply.status_code == 303
    await li.post(f"/console/cases/{case.id}/note", {"text": "客户上周也投诉过"})
    rows = await outbox_rows(kefu)
    assert [(r.channel, r.recipient_id, r.purpose, r.payload["text"]) for r in rows][-1] == (
        "web", "alice", "agent", "您好，已经在处理了")
    page = (await li.get(f"/console/cases/{case.id}")).text
    assert "您好，已经在处理了" in page and "客户上周也投诉过" in page and "内部备注" in page
    claimed = await get_case(kefu, case.id)
    assert claimed.first_responded_at == FIXED_NOW and claimed.status == "open"
    closed = await li.post(f"/console/cases/{case.id}/close", {"code": "explained"})
    assert closed.status_code == 303
    done = await get_case(kefu, case.id)
    assert (done.status, done.resolution_code) == ("closed", "explained")
    assert (await outbox_rows(kefu))[-1].purpose == "csat"


async def test_the_member_card_is_masked_and_the_view_is_audited(kefu: Kefu,
                                                                 login: Login) -> None:
    await bound_member(kefu, sender="alice", points=2500)
    case = await file_complaint(kefu, dialogue(kefu, Clock()))
    li = await login("agent")
    await li.post(f"/console/cases/{case.id}/claim")
    page = (await li.get(f"/console/cases/{case.id}")).text
    assert "M100001" in page and "2,500" in page
    assert "13900000001" not in page and "139****0001" in page
    assert "测试会员" not in page and "测***" in page
    from bot.core import audit

    async with transaction(kefu.sessions) as session:
        views = await audit.search(session, action=audit.PII_VIEW)
    assert views and views[0].subject == "M100001"


async def test_history_spans_the_members_channels(kefu: Kefu, login: Login) -> None:
    member = await bound_member(kefu, sender="alice")
    d = dialogue(kefu, Clock())
    await say(d, "我在微信上问过一次", sender="wx-alice", channel="wechat")
    from bot.core.storage.members import bind_identity

    async with transaction(kefu.sessions) as session:
        identity = await find_identity(session, channel="wechat", external_id="wx-alice")
        assert identity is not None
        await bind_identity(session, identity=identity, member=member, now=FIXED_NOW)
    case = await file_complaint(kefu, d, sender="alice")
    page = (await (await login("supervisor")).get(f"/console/cases/{case.id}")).text
    assert "我在微信上问过一次" in page and "wechat" in page


async def test_customer_html_is_escaped(kefu: Kefu, login: Login) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    case = await file_complaint(kefu, dialogue(kefu, Clock()), description=attack)
    li = await login("agent")
    for path in ("/console/queue", f"/console/cases/{case.id}",
                 f"/console/cases/{case.id}/timeline", "/console/queue/rows"):
        html = (await li.get(path)).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;" in html or "&lt;img" in html, path
    csp = (await li.get("/console/queue")).headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


async def test_forged_csrf_changes_nothing(kefu: Kefu, login: Login) -> None:
    case = await file_complaint(kefu, dialogue(kefu, Clock()))
    li = await login("agent")
    before = await event_count(kefu)
    for token in ("forged", ""):
        response = await li.client.post(f"/console/cases/{case.id}/claim",
                                        data={"csrf": token}, headers=JSON)
        assert response.status_code == 403 and "CSRF" in response.json()["error"]
    other_site = await li.client.post(f"/console/cases/{case.id}/claim",
                                      data={"csrf": li.csrf},
                                      headers={"origin": "https://evil.example", **JSON})
    assert other_site.status_code == 403
    assert await event_count(kefu) == before
    assert (await get_case(kefu, case.id)).assignee_id is None


async def test_reply_to_a_closed_case_is_refused(kefu: Kefu, login: Login) -> None:
    case = await file_complaint(kefu, dialogue(kefu, Clock()))
    li = await login("agent")
    await li.post(f"/console/cases/{case.id}/claim")
    await li.post(f"/console/cases/{case.id}/close", {"code": "resolved"})
    rows, events = len(await outbox_rows(kefu)), await event_count(kefu)
    response = await li.post(f"/console/cases/{case.id}/reply", {"text": "再补充一句"})
    assert response.status_code == 409 and "is closed" in response.text
    assert "没有做任何更改" in response.text
    assert (len(await outbox_rows(kefu)), await event_count(kefu)) == (rows, events)


async def test_a_100_kb_reply_is_refused_with_the_limit(kefu: Kefu, login: Login) -> None:
    case = await file_complaint(kefu, dialogue(kefu, Clock()))
    li = await login("agent")
    await li.post(f"/console/cases/{case.id}/claim")
    rows = len(await outbox_rows(kefu))
    response = await li.post(f"/console/cases/{case.id}/reply", {"text": "很" * 100_000},
                             headers=JSON)
    assert response.status_code == 422
    assert response.json()["error"] == "the reply has 100000 characters; the limit is 4000"
    assert len(await outbox_rows(kefu)) == rows
    async with transaction(kefu.sessions) as session:
        longest = await session.scalar(select(func.max(func.length(Message.text))))
    assert longest is not None and longest < 4000


async def test_wechat_outside_the_window_is_explained_and_blocked(kefu: Kefu,
                                                                  login: Login) -> None:
    clock = Clock()
    d = dialogue(kefu, clock)
    case = await file_complaint(kefu, d, sender="wx-openid", channel="wechat")
    async with transaction(kefu.sessions) as session:
        identity = await find_identity(session, channel="wechat", external_id="wx-openid")
        assert identity is not None
        identity.window_kind, identity.window_opened_at = "message", FIXED_NOW - timedelta(
            hours=49)
    li = await login("agent")
    await li.post(f"/console/cases/{case.id}/claim")
    page = (await li.get(f"/console/cases/{case.id}")).text
    assert "48 小时回复窗口已关闭" in page
    rows = len(await outbox_rows(kefu))
    response = await li.post(f"/console/cases/{case.id}/reply", {"text": "您好"}, headers=JSON)
    assert response.status_code == 409
    assert "48 hours" in response.json()["error"]
    assert len(await outbox_rows(kefu)) == rows


async def test_canned_replies_fill_their_variables(kefu: Kefu, login: Login) -> None:
    await bound_member(kefu, sender="alice", points=1234)
    case = await file_complaint(kefu, dialogue(kefu, Clock()))
    admin = await login("admin")
    bad = await admin.post("/console/admin/canned", {"title": "x", "body": "Hi {nmae}"})
    assert bad.status_code == 422 and "{nmae}" in bad.text
    saved = await admin.post("/console/admin/canned", {
        "title": "问候", "body": "您好，我是{agent}，工单 {case_number}，积分 {points}。"})
    assert saved.status_code == 303
    li = await login("agent")
    await li.post(f"/console/cases/{case.id}/claim")
    page = (await li.get(f"/console/cases/{case.id}")).text
    assert f"您好，我是李华，工单 {case.number}，积分 1,234。" in page
    async with transaction(kefu.sessions) as session:
        found = (await session.execute(select(CannedReply))).scalars().one()
    deleted = await admin.post(f"/console/admin/canned/{found.id}/delete")
    assert deleted.status_code == 303
    assert "问候" not in (await admin.get("/console/admin/canned")).text


async def test_transfer_and_assign(kefu: Kefu, login: Login, team: dict[str, int]) -> None:
    case = await file_complaint(kefu, dialogue(kefu, Clock()))
    li = await login("agent")
    await li.post(f"/console/cases/{case.id}/claim")
    moved = await li.post(f"/console/cases/{case.id}/transfer",
                          {"agent_id": str(team["other"]), "note": "他熟悉配送"})
    assert moved.status_code == 303
    assert (await get_case(kefu, case.id)).assignee_id == team["other"]
    assert (await li.get(f"/console/cases/{case.id}")).status_code == 403
    wang = await login("supervisor")
    assigned = await wang.post(f"/console/cases/{case.id}/assign",
                               {"agent_id": str(team["agent"])})
    assert assigned.status_code == 303
    assert (await get_case(kefu, case.id)).assignee_id == team["agent"]
    agent_only = await li.post(f"/console/cases/{case.id}/assign",
                               {"agent_id": str(team["other"])}, headers=JSON)
    assert agent_only.status_code == 403
    async with transaction(kefu.sessions) as session:
        kinds = [e.kind for e in await store.events_of(session, case_ids=[case.id])]
    assert kinds[-3:] == ["claimed", "transferred", "assigned"]


async def test_supervisor_sees_load_and_breaches(kefu: Kefu, app: object, login: Login) -> None:
    case = await file_complaint(kefu, dialogue(kefu, Clock()))
    wang = await login("supervisor")
    page = (await wang.get("/console/supervisor")).text
    assert "没有超时" in page
    for minutes in (100, 130):  # a visit in between keeps the session from going idle
        app.state.console_clock = (  # type: ignore[attr-defined]
            lambda m=minutes: FIXED_NOW + timedelta(minutes=m))
        page = (await wang.get("/console/supervisor")).text
    assert case.number in page and "u-breached" in page
    assert re.search(r"<b>1</b><span>已超时", page)


async def test_admin_adds_agents_with_strong_passwords(kefu: Kefu, login: Login,
                                                      team: dict[str, int]) -> None:
    admin = await login("admin")
    weak = await admin.post("/console/admin/agents", {
        "email": "new@kefu.test", "display_name": "新人", "role": "agent", "password": "123"})
    assert weak.status_code == 422 and "10 characters" in weak.text
    made = await admin.post("/console/admin/agents", {
        "email": "new@kefu.test", "display_name": "新人", "role": "agent",
        "password": "a-long-pass-9"})
    assert made.status_code == 303
    again = await admin.post("/console/admin/agents", {
        "email": "NEW@kefu.test", "display_name": "新人", "role": "agent",
        "password": "a-long-pass-9"})
    assert again.status_code == 409
    myself = await admin.post(f"/console/admin/agents/{team['admin']}",
                              {"role": "agent", "active": "on"})
    assert myself.status_code == 422 and "yourself" in myself.text
