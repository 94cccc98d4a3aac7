"""The supervisors' campaign page: preview, create, follow, cancel; agents may not."""

from __future__ import annotations

import re

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.core.storage.models import Member
from tests.console.conftest import Login
from tests.proactive.helpers import reachable_member


async def test_a_supervisor_previews_creates_follows_and_cancels(kefu: Kefu,
                                                                 login: Login) -> None:
    member = await reachable_member(kefu, promotions=True, name="周杰")
    async with transaction(kefu.sessions) as session:
        fresh = await session.get(Member, member.id)
        assert fresh is not None
        fresh.tier = "gold"
    boss = await login("supervisor")
    form = {"name": "金卡周末", "tier_gold": "on", "text_zh_hans": "{name}，金卡专享 8 折"}
    shown = await boss.post("/console/campaigns", {**form, "action": "preview"})
    assert shown.status_code == 200
    assert "<strong>1</strong> 位会员符合" in shown.text and "周*，金卡专享 8 折" in shown.text
    bad = await boss.post("/console/campaigns", {**form, "text_zh_hans": "{coupon}",
                                                 "action": "create"})
    assert bad.status_code == 422 and "unknown template variable" in bad.text
    empty = await boss.post("/console/campaigns", {**form, "tier_gold": "",
                                                   "tier_diamond": "on", "action": "create"})
    assert empty.status_code == 422 and "matches no member" in empty.text
    made = await boss.post("/console/campaigns", {**form, "action": "create"})
    assert made.status_code == 303
    location = made.headers["location"]
    assert re.fullmatch(r"/console/campaigns/\d+", location)
    page = await boss.get(location)
    assert "金卡周末" in page.text and 'http-equiv="refresh"' in page.text
    cancelled = await boss.post(location + "/cancel")
    assert cancelled.status_code == 303
    assert "cancelled" in (await boss.get(location)).text
    agent = await login("agent")
    assert (await agent.get("/console/campaigns")).status_code == 403
