"""After-sales surveys: asked once N days after a purchase; a low score opens a case with the
purchase attached; the comment follows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.app import Kefu
from bot.app_proactive import planner_for
from bot.core.storage.db import transaction
from bot.core.storage.models import ChannelIdentity, Member, OutboxMessage
from bot.core.storage.models_proactive import Survey
from bot.dialogue.pipeline import Dialogue
from bot.features.cases import store as cases
from bot.features.loyalty.ledger import add_purchase
from bot.features.proactive.live import LiveProactive
from scheduler.surveys import send_surveys
from tests.conftest import FIXED_NOW
from tests.handlers.conftest import Chat, clock, dialogue  # noqa: F401  (fixtures)
from tests.proactive.helpers import reachable_member


async def _bought(kefu: Kefu, member: Member, *, days_ago: float, store: str,
                  ref: str) -> None:
    async with transaction(kefu.sessions) as session:
        await add_purchase(session, member_id=member.id, amount=Decimal("368.00"),
                           occurred_at=FIXED_NOW - timedelta(days=days_ago), store_code=store,
                           external_ref=ref)


async def _sender(kefu: Kefu, member: Member) -> str:
    async with kefu.sessions() as session:
        identity = await session.scalar(select(ChannelIdentity).where(
            ChannelIdentity.member_id == member.id))
        assert identity is not None
        return identity.external_id


async def test_survey_once_per_purchase_and_a_low_score_opens_a_case(
        kefu: Kefu, dialogue: Dialogue) -> None:  # noqa: F811
    unhappy = await reachable_member(kefu, name="赵六")
    happy = await reachable_member(kefu)
    silent = await reachable_member(kefu, greetings=False)
    await _bought(kefu, unhappy, days_ago=3.5, store="sh-jingan", ref="pos-777")
    await _bought(kefu, happy, days_ago=4, store="bj-sanlitun", ref="pos-778")
    await _bought(kefu, happy, days_ago=1, store="bj-sanlitun", ref="pos-779")  # too recent
    await _bought(kefu, silent, days_ago=4, store="sh-jingan", ref="pos-780")
    planner = planner_for(kefu, LiveProactive(kefu.settings.proactive, None))
    assert await send_surveys(sessions=kefu.sessions, planner=planner,
                              clock=lambda: FIXED_NOW) == 2
    assert await send_surveys(sessions=kefu.sessions, planner=planner,
                              clock=lambda: FIXED_NOW) == 0
    async with kefu.sessions() as session:
        rows = list((await session.execute(select(OutboxMessage).where(
            OutboxMessage.purpose == "survey").order_by(OutboxMessage.id))).scalars())
    assert len(rows) == 2
    assert "上海静安嘉里店" in rows[0].payload["text"]
    assert [b["payload"] for b in rows[0].payload["buttons"]] == [
        f"/csat {n}" for n in range(1, 6)]

    chat = Chat(dialogue, sender=await _sender(kefu, unhappy))
    answer = await chat.say("/csat 2")
    assert "工单" in answer
    assert "感谢您的反馈" in await chat.say("店员态度很差")
    happy_chat = Chat(dialogue, sender=await _sender(kefu, happy))
    assert "工单" not in await happy_chat.say("5")
    await happy_chat.say("/skip")
    async with kefu.sessions() as session:
        surveys = {s.member_id: s for s in (await session.execute(select(Survey))).scalars()}
        assert surveys[unhappy.id].score == 2 and surveys[unhappy.id].comment == "店员态度很差"
        assert surveys[happy.id].score == 5 and surveys[happy.id].case_id is None
        case_id = surveys[unhappy.id].case_id
        assert case_id is not None
        case = await cases.get_case(session, case_id=case_id)
        assert case is not None and case.store_code == "sh-jingan"
        assert "pos-777" in case.description and "368.00" in case.description
        events = [e.kind for e in await cases.events_of(session, case_ids=[case_id])]
    assert "survey" in events and "survey_comment" in events
