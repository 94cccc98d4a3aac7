"""Handoff to a person: the queue and expected wait, the bot silent while an agent owns the
conversation, /bot to come back, the satisfaction question after the close."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.core.storage.models import Conversation, OutboxMessage
from bot.core.storage.models_cases import Agent, Case
from bot.features.cases import store
from bot.features.cases.service import Desk
from tests.cases.helpers import (
    Clock,
    add_agent,
    dialogue,
    file_complaint,
    get_case,
    latest_case,
    say,
    texts,
)
from tests.conftest import FIXED_NOW

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def act(kefu: Kefu, case_id: int, agent: Agent, what: str, now: datetime = FIXED_NOW,
              **values: str) -> None:
    desk = Desk(kefu.settings, kefu.services.translator, no_buttons=kefu.services.no_buttons)
    async with transaction(kefu.sessions) as session:
        case = await store.get_case(session, case_id=case_id)
        me = await session.get(Agent, agent.id)
        assert case is not None and me is not None
        if what == "claim":
            await desk.claim(session, case=case, agent=me, now=now)
        elif what == "reply":
            await desk.reply(session, case=case, agent=me, text=values["text"], now=now)
        elif what == "wait":
            await desk.wait_for_customer(session, case=case, agent=me, now=now)
        elif what == "close":
            await desk.close(session, case=case, agent=me, code="resolved", now=now)


async def conversation_status(kefu: Kefu, case: Case) -> str:
    async with transaction(kefu.sessions) as session:
        conversation = await session.get(Conversation, case.conversation_id)
    assert conversation is not None
    return conversation.status


async def outbox(kefu: Kefu) -> list[OutboxMessage]:
    async with transaction(kefu.sessions) as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id)))
                    .scalars())


async def test_asking_for_a_person_queues_with_the_expected_wait(kefu: Kefu) -> None:
    await add_agent(kefu, email="a@kefu.test", seen=FIXED_NOW)
    await add_agent(kefu, email="b@kefu.test", seen=FIXED_NOW - timedelta(minutes=5))
    await add_agent(kefu, email="gone@kefu.test", seen=FIXED_NOW - timedelta(hours=3))
    d = dialogue(kefu, Clock())
    await texts(d, "/human_agent", sender="first")
    await texts(d, "/human_agent", sender="second")
    replies = await texts(d, "/human_agent", sender="third")
    # Third in line, 6 minutes a chat, two agents online: 9 minutes.
    assert replies == ["已为您转接人工客服（C-20261123-0003），您目前排在第 3 位，预计等待约 9 分钟。\n"
                       "等待期间您仍可以问我问题；发送 /bot 可取消排队。"]
    case = await latest_case(kefu)
    assert (case.kind, case.priority, case.status) == ("chat", "normal", "new")


async def test_outside_business_hours_says_when_someone_answers(kefu: Kefu) -> None:
    saturday_night = datetime(2026, 11, 28, 23, 0, tzinfo=SHANGHAI)
    d = dialogue(kefu, Clock(saturday_night))
    replies = await texts(d, "/human_agent")
    assert "非工作时间" in replies[0] and "2026年11月30日 09:00" in replies[0]


async def test_two_misunderstood_messages_hand_over(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    first = await say(d, "qwerty asdf")
    assert first[-1].buttons[-1].payload == "/human_agent"  # a person is offered at once
    second = await texts(d, "zxcv uiop")
    assert "转接人工客服" in second[-1] or "passed you to a person" in second[-1]
    assert await conversation_status(kefu, await latest_case(kefu)) == "queued"
    third = await texts(d, "/points")
    assert third  # still queued: the bot keeps answering until an agent takes over


async def test_bot_is_silent_while_an_agent_owns_it_and_bot_brings_it_back(kefu: Kefu) -> None:
    agent = await add_agent(kefu)
    d = dialogue(kefu, Clock())
    await say(d, "/human_agent")
    case = await latest_case(kefu)
    await act(kefu, case.id, agent, "claim")
    assert await conversation_status(kefu, case) == "agent"
    joined = [row.payload["text"] for row in await outbox(kefu)]
    assert joined == ["您好，我是客服李华，正在为您处理 C-20261123-0001。如需返回智能助手，请发送 /bot。"]
    assert await say(d, "我的积分呢？") == []
    assert await say(d, "/points") == []
    assert await texts(d, "/bot") == ["好的，已为您切回智能助手。有什么可以帮您？"]
    assert await conversation_status(kefu, case) == "bot"
    assert (await get_case(kefu, case.id)).status == "open"  # the agent still has the case
    await act(kefu, case.id, agent, "reply", text="您好，还在吗？")
    assert await conversation_status(kefu, case) == "agent"


async def test_leaving_the_queue_withdraws_an_unclaimed_chat(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    await say(d, "/human_agent")
    assert await texts(d, "返回机器人") == ["好的，已为您切回智能助手。有什么可以帮您？"]
    case = await latest_case(kefu)
    assert (case.status, case.resolution_code) == ("closed", "withdrawn")


async def test_waiting_on_the_customer_pauses_the_deadline(kefu: Kefu) -> None:
    agent = await add_agent(kefu)
    clock = Clock()
    d = dialogue(kefu, clock)
    case = await file_complaint(kefu, d)
    await act(kefu, case.id, agent, "claim")
    await act(kefu, case.id, agent, "reply", text="请问是哪天购买的？")
    before = await get_case(kefu, case.id)
    assert before.resolution_due_at is not None
    await act(kefu, case.id, agent, "wait", now=FIXED_NOW + timedelta(minutes=10))
    paused = await get_case(kefu, case.id)
    assert paused.status == "pending" and paused.resolution_due_at is None
    assert paused.resolution_left == 24 * 60 - 10
    clock.now = FIXED_NOW + timedelta(days=1)  # Tuesday 14:00: a day later
    assert await say(d, "是上周六买的") == []  # the agent owns it: no bot answer
    resumed = await get_case(kefu, case.id)
    assert resumed.status == "open"
    # Due Wednesday 14:00 at first; paused Monday 14:10 to Tuesday 14:00, which is 710
    # business minutes (410 on Monday, 300 on Tuesday): now due Thursday 13:50.
    assert before.resolution_due_at == datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI)
    assert resumed.resolution_due_at == datetime(2026, 11, 26, 13, 50, tzinfo=SHANGHAI)


async def test_close_asks_for_a_rating_and_a_comment(kefu: Kefu) -> None:
    agent = await add_agent(kefu)
    d = dialogue(kefu, Clock())
    case = await file_complaint(kefu, d)
    await act(kefu, case.id, agent, "claim")
    await act(kefu, case.id, agent, "close")
    assert await conversation_status(kefu, case) == "bot"
    prompt = (await outbox(kefu))[-1]
    assert prompt.purpose == "csat"
    assert [b["payload"] for b in prompt.payload["buttons"]] == [
        "/csat 1", "/csat 2", "/csat 3", "/csat 4", "/csat 5"]
    assert "打分" in prompt.payload["text"]
    assert await texts(d, "非常好") == ["请回复 1 到 5 之间的数字。", "请为本次服务打分（1–5 分，5 分最满意）："]
    assert "还有什么想对我们说" in (await texts(d, "/csat 4"))[0]
    assert await texts(d, "处理很快，谢谢") == ["感谢您的反馈，祝您生活愉快！"]
    rated = await get_case(kefu, case.id)
    assert (rated.csat_score, rated.csat_comment) == (4, "处理很快，谢谢")


async def test_a_typed_rating_and_a_skipped_comment(kefu: Kefu) -> None:
    agent = await add_agent(kefu)
    d = dialogue(kefu, Clock())
    case = await file_complaint(kefu, d)
    await act(kefu, case.id, agent, "close")
    await texts(d, "5")
    assert await texts(d, "/skip") == ["感谢您的反馈，祝您生活愉快！"]
    rated = await get_case(kefu, case.id)
    assert (rated.csat_score, rated.csat_comment) == (5, None)
    # A second press of an old button changes nothing.
    assert await texts(d, "/csat 1") == ["目前没有需要评分的服务。"]
    assert (await get_case(kefu, case.id)).csat_score == 5


async def test_a_late_button_press_still_rates(kefu: Kefu) -> None:
    agent = await add_agent(kefu)
    clock = Clock()
    d = dialogue(kefu, clock)
    case = await file_complaint(kefu, d)
    await act(kefu, case.id, agent, "close")
    clock.advance(hours=80)  # the question timed out
    replies = await texts(d, "/csat 2")
    assert replies[-1] == "感谢您的反馈，祝您生活愉快！"
    assert (await get_case(kefu, case.id)).csat_score == 2


async def test_a_typed_rating_on_wechat_is_not_taken_for_an_old_choice(kefu: Kefu) -> None:
    agent = await add_agent(kefu)
    d = dialogue(kefu, Clock())
    # The store question leaves a numbered list of stores behind on WeChat …
    for text in ("/complaint", "/category staff", "收银员对我态度很差"):
        await say(d, text, sender="wx-1", channel="wechat")
    stores = await texts(d, "2", sender="wx-1", channel="wechat")  # the second store
    assert "C-20261123-0001" in stores[0]
    case = await latest_case(kefu)
    assert case.store_code == "sh-xujiahui"
    await act(kefu, case.id, agent, "claim")
    await act(kefu, case.id, agent, "close")
    # … but after the close a typed 2 is a rating of 2, not that store.
    await texts(d, "2", sender="wx-1", channel="wechat")
    assert (await get_case(kefu, case.id)).csat_score == 2


async def test_on_wechat_the_rating_question_lists_its_choices(kefu: Kefu) -> None:
    agent = await add_agent(kefu)
    d = dialogue(kefu, Clock())
    case = await file_complaint(kefu, d, sender="wx-2", channel="wechat")
    await act(kefu, case.id, agent, "claim")
    await act(kefu, case.id, agent, "close")
    prompt = (await outbox(kefu))[-1]
    # WeChat shows no buttons: the question ends with the choices and how to answer them.
    assert prompt.payload["buttons"] == []
    assert prompt.payload["text"].endswith(
        "请为本次服务打分（1–5 分，5 分最满意）：\n请回复数字选择：\n"
        "1 很不满意\n2 不满意\n3 一般\n4 满意\n5 非常满意")
    assert "点" not in prompt.payload["text"]
    comment = await texts(d, "4", sender="wx-2", channel="wechat")
    assert "回复“跳过”" in comment[0] and "1. 跳过" in comment[0]
    assert await texts(d, "1", sender="wx-2", channel="wechat") == ["感谢您的反馈，祝您生活愉快！"]
    assert (await get_case(kefu, case.id)).csat_score == 4
