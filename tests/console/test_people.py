"""The console speaks people, not payloads: button labels instead of /payloads, no automatic
/start, members (masked) or visitors instead of platform ids, SLA notices in words, and one
audited look per case and sign-in."""

from datetime import timedelta

from bot.app import Kefu
from bot.console.labels import deadline_text
from bot.core import audit
from bot.core.storage.db import transaction
from bot.features.cases import store
from tests.cases.helpers import Clock, dialogue, file_complaint, latest_case, say
from tests.conftest import FIXED_NOW
from tests.console.conftest import Login
from tests.factories import bound_member


async def test_the_timeline_shows_labels_and_hides_the_automatic_start(
    kefu: Kefu, login: Login
) -> None:
    d = dialogue(kefu, Clock())
    for text in ("/start", "/complaint", "/category staff", "店员对我大声说话，态度非常差"):
        await say(d, text, sender="alice")
    await say(d, "/skip", sender="alice")
    case = await latest_case(kefu)
    li = await login("agent")
    page = (await li.get(f"/console/cases/{case.id}")).text
    assert "/category staff" not in page and "/start" not in page and "/skip" not in page
    assert '<span class="chip pressed" title="按下按钮 Pressed a button">店员态度</span>' in page
    assert '<span class="chip pressed" title="按下按钮 Pressed a button">跳过</span>' in page


async def test_the_queue_names_members_masked_and_visitors_as_visitors(
    kefu: Kefu, login: Login
) -> None:
    await bound_member(kefu, sender="alice")
    d = dialogue(kefu, Clock())
    await file_complaint(kefu, d, sender="alice")
    await file_complaint(kefu, d, sender="stranger")
    queue = (await (await login("agent")).get("/console/queue")).text
    assert "测*** · M100001" in queue
    assert "访客 Visitor" in queue
    assert "web:alice" not in queue and "web:stranger" not in queue and "测试会员" not in queue


async def test_sla_notices_name_the_deadline_in_words(kefu: Kefu, login: Login) -> None:
    assert deadline_text("first_response 11-23 16:00") == "首次响应 First reply 11-23 16:00"
    assert deadline_text("resolution 11-24 14:00") == "解决 Resolution 11-24 14:00"
    case = await file_complaint(kefu, dialogue(kefu, Clock()))
    async with transaction(kefu.sessions) as session:
        stored = await store.get_case(session, case_id=case.id)
        assert stored is not None
        await store.add_event(session, case=stored, kind="sla_warning",
                              now=FIXED_NOW + timedelta(minutes=90),
                              body="first_response 2026-11-23 16:00 Asia/Shanghai")
    page = (await (await login("agent")).get(f"/console/cases/{case.id}")).text
    assert "首次响应 First reply 2026-11-23 16:00" in page
    assert "first_response" not in page


async def test_one_audited_look_per_case_and_sign_in(kefu: Kefu, login: Login) -> None:
    await bound_member(kefu, sender="alice")
    case = await file_complaint(kefu, dialogue(kefu, Clock()))

    async def views() -> int:
        async with transaction(kefu.sessions) as session:
            return len(await audit.search(session, action=audit.PII_VIEW))

    li = await login("agent")
    for _ in range(3):
        assert (await li.get(f"/console/cases/{case.id}")).status_code == 200
    assert await views() == 1
    # Signing in again is another look.
    again = await login("agent")
    await again.get(f"/console/cases/{case.id}")
    await again.get(f"/console/cases/{case.id}")
    assert await views() == 2
