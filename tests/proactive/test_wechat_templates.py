"""WeChat rules for proactive sends: the customer-service API inside the 48-hour window, a
template message outside it, and a clear failure when the platform rejects the template."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app_proactive import planner_for
from bot.core.storage.db import transaction
from bot.core.storage.models import ChannelIdentity, OutboxMessage
from bot.features.proactive import campaigns
from bot.features.proactive.live import LiveProactive
from bot.features.proactive.segments import Segment
from bot.features.proactive.settings import QuietHours, WechatTemplate
from bot.settings import Settings
from kefu_sim.runner import serve_in_thread
from kefu_sim.wechat import WeChatSimConfig, WeChatSimulator
from scheduler.campaigns import send_due_campaigns
from tests.bot.channels.conftest import WX_APPID, WX_SECRET, WeChatRig, eventually, wechat_rig_for
from tests.proactive.helpers import reachable_member


@pytest.fixture(scope="module")
def template_sim() -> Iterator[tuple[WeChatSimulator, str]]:
    sim = WeChatSimulator(WeChatSimConfig(appid=WX_APPID, secret=WX_SECRET,
                                          template_ids=frozenset({"TPL_PROMO"})))
    with serve_in_thread(sim) as url:
        yield sim, url


def _with_template(settings: Settings, template_id: str) -> Settings:
    proactive = settings.proactive.model_copy(update={
        "quiet_hours": QuietHours(start=datetime.min.time(), end=datetime.min.time()),
        "wechat_templates": {"campaign": WechatTemplate(
            template_id=template_id, fields={"first": "{text}", "keyword1": "{date}"})}})
    return settings.model_copy(update={"proactive": proactive})


@pytest.fixture(params=["TPL_PROMO", "TPL_UNKNOWN"])
async def rig(request: pytest.FixtureRequest, settings: Settings,
              template_sim: tuple[WeChatSimulator, str]) -> AsyncIterator[WeChatRig]:
    async for made in wechat_rig_for(_with_template(settings, request.param), template_sim):
        yield made


async def test_inside_the_window_customer_service_outside_a_template(rig: WeChatRig) -> None:
    kefu = rig.kefu
    inside = await reachable_member(kefu, channel="wechat", promotions=True, name="林一")
    outside = await reachable_member(kefu, channel="wechat", promotions=True, name="林二")
    now = datetime.now(UTC)
    async with kefu.sessions() as session:
        openids = {m.id: i.external_id for m in (inside, outside)
                   for i in [await session.scalar(select(ChannelIdentity).where(
                       ChannelIdentity.member_id == m.id))] if i is not None}
    await rig.pusher().text(openids[inside.id], "/help")  # opens the 48-hour window
    planner = planner_for(kefu, LiveProactive(kefu.settings.proactive, None))
    async with transaction(kefu.sessions) as session:
        campaign, _ = await campaigns.create(
            session, planner, name="会员日", segment=Segment(channels=["wechat"]),
            texts={"zh-Hans": "{name}，会员日全场 9 折"}, now=now, send_at=None, actor="test")
    assert await send_due_campaigns(sessions=kefu.sessions, planner=planner,
                                    clock=lambda: now) == 2
    template_id = kefu.settings.proactive.wechat_templates["campaign"].template_id

    async def finished() -> list[OutboxMessage] | None:
        async with kefu.sessions() as session:
            rows = list((await session.execute(select(OutboxMessage).where(
                OutboxMessage.purpose == "campaign"))).scalars())
        return rows if rows and all(r.status != "pending" for r in rows) else None

    rows = {r.recipient_id: r for r in await eventually(finished)}
    sent = rig.sim.sent_to(openids[inside.id])
    assert [m.text for m in sent if "会员日" in m.text] == ["林一，会员日全场 9 折"]
    assert rows[openids[inside.id]].status == "sent"
    templates = [t for t in rig.sim.templates if t.openid == openids[outside.id]]
    if template_id == "TPL_PROMO":
        assert rows[openids[outside.id]].status == "sent"
        assert len(templates) == 1 and templates[0].template_id == "TPL_PROMO"
        assert templates[0].data["first"] == {"value": "林二，会员日全场 9 折"}
    else:  # the platform refuses the id: that member fails with the reason, the rest went
        assert templates == []
        assert rows[openids[outside.id]].status == "failed"
        assert "template id rejected" in (rows[openids[outside.id]].last_error or "")
    async with kefu.sessions() as session:
        state = await campaigns.status(session, campaign_id=campaign.id)
    assert state is not None and state.sent + state.failed == 2
