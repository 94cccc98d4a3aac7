"""Complaints and suggestions through the form: category buttons, description, optional order
and store, a readable number, a priority and the due time; case_status."""

import re
from dataclasses import replace
from datetime import timedelta

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.core.storage.models import Conversation
from bot.dialogue.pipeline import Dialogue
from bot.dialogue.registry import Registry
from bot.features.cases import store
from handlers import register_all
from nlu import intents
from nlu.types import Entity, IntentScore, Parse
from tests.cases.helpers import Clock, dialogue, file_complaint, latest_case, say, texts
from tests.conftest import FIXED_NOW
from tests.factories import bound_member


async def test_complaint_form_creates_a_numbered_case_with_due_time(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    first = await say(d, "/complaint")
    assert "哪方面" in first[0].text
    assert [b.payload for b in first[0].buttons] == [
        "/category product", "/category service", "/category staff", "/category delivery",
        "/category other"]
    assert "描述" in (await texts(d, "/category delivery"))[0]
    order_prompt = await say(d, "快递三天都没到，客服电话也打不通")
    assert "订单号" in order_prompt[0].text and order_prompt[0].buttons[0].payload == "/skip"
    assert "格式不对" in (await texts(d, "12345"))[0]
    done = await texts(d, "SO2026112300001")  # delivery: no store question
    assert done == ["已记录您的投诉，工单号：C-20261123-0001。我们会在 2026年11月23日 16:00 前答复您。"]
    case = await latest_case(kefu)
    assert (case.kind, case.category, case.priority, case.status) == (
        "complaint", "delivery", "high", "new")
    assert case.order_id == "SO2026112300001" and case.store_code is None
    assert case.description == "快递三天都没到，客服电话也打不通"


async def test_numbers_count_up_within_the_day(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    first = await file_complaint(kefu, d, sender="a")
    second = await file_complaint(kefu, d, sender="b")
    assert (first.number, second.number) == ("C-20261123-0001", "C-20261123-0002")


async def test_store_by_alias_and_its_time_zone(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    await say(d, "/complaint")
    await say(d, "/category staff")
    await say(d, "店员对我大声说话，态度非常差")
    assert "格式" not in (await texts(d, "铜锣湾店"))[0]
    case = await latest_case(kefu)
    assert case.store_code == "hk-causeway" and case.timezone == "Asia/Hong_Kong"


async def test_urgent_words_make_it_urgent_and_hand_off(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    case = await file_complaint(kefu, d, description="孩子吃了你们的蛋糕后过敏，起了很多红疹")
    assert case.priority == "urgent"
    async with transaction(kefu.sessions) as session:
        events = [e.kind for e in await store.events_of(session, case_ids=[case.id])]
        conversation = await session.get(Conversation, case.conversation_id)
    assert events == ["created", "queued"]
    assert conversation is not None and conversation.status == "queued"
    # 30 business minutes for urgent cases.
    assert case.first_response_due_at == FIXED_NOW + timedelta(minutes=30)


async def test_urgent_complaint_tells_the_queue_position(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    await say(d, "/complaint")
    await say(d, "/category product")
    # Urgent means at once: no order number or store is asked first.
    replies = await texts(d, "the bread made my son sick, he had an allergic reaction")
    joined = "\n".join(replies)
    assert "urgent" in joined.lower()
    assert "C-20261123-0001" in joined and "number 1 in line" in joined
    assert "order number" not in joined.lower() and "store" not in joined.lower()
    case = await latest_case(kefu)
    assert (case.priority, case.category, case.order_id, case.store_code) == (
        "urgent", "product", None, None)


async def test_urgent_words_at_any_question_hand_over(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    await say(d, "/complaint")
    # The category question answered with what happened: still a case, handed over now.
    joined = "\n".join(await texts(d, "我孩子吃了你们的饼干过敏了"))
    assert "C-20261123-0001" in joined and "紧急" in joined
    case = await latest_case(kefu)
    assert (case.priority, case.category) == ("urgent", "other")
    assert case.description == "我孩子吃了你们的饼干过敏了"


async def test_suggestions_are_low_priority(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    await say(d, "/suggestion")
    await say(d, "/category other")
    reply = await texts(d, "希望门店能多一些儿童座椅")
    assert "跳过" in reply[0]
    assert "建议" in (await texts(d, "/skip"))[0]
    case = await latest_case(kefu)
    assert (case.kind, case.priority) == ("suggestion", "low")


class ComplaintNlu:
    """Understands every text as a complaint, with the order id it contains."""

    async def parse(self, text: str, *, timezone: str = "Asia/Shanghai") -> Parse:
        entities = tuple(Entity("order_id", m.group(0), m.start(), m.end())
                         for m in re.finditer(r"SO\d{10,16}", text))
        return Parse(text, IntentScore(intents.COMPLAINT, 0.93), entities,
                     (IntentScore(intents.COMPLAINT, 0.93),))


async def test_a_long_first_message_is_the_description_and_entities_fill_slots(
        kefu: Kefu) -> None:
    services = replace(kefu.services, nlu=ComplaintNlu())
    d = Dialogue(services=services, sessions=kefu.sessions, registry=register_all(Registry()),
                 clock=Clock())
    text = "订单SO2026112300007的蛋糕是坏的，我要投诉"
    assert "哪方面" in (await texts(d, text))[0]
    # Product: the order id came with the first message, so only the store is asked.
    assert "门店" in (await texts(d, "/category product"))[0]
    await say(d, "/skip")
    case = await latest_case(kefu)
    assert case.description == text and case.order_id == "SO2026112300007"


async def test_cancel_leaves_no_case(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    await say(d, "/complaint")
    await say(d, "/category product")
    assert "已取消" in (await texts(d, "算了"))[0]
    assert "还没有" in (await texts(d, "/case_status"))[0]


async def test_case_status_shows_only_the_customers_own_cases(kefu: Kefu) -> None:
    await bound_member(kefu, sender="alice")
    d = dialogue(kefu, Clock())
    mine = await file_complaint(kefu, d, sender="alice")
    theirs = await file_complaint(kefu, d, sender="mallory")
    assert mine.member_id is not None
    assert "C-20261123-0001" in (await texts(d, f"/case_status {mine.number}"))[0]
    refused = await texts(d, f"/case_status {theirs.number}")
    assert refused == [f"没有找到工单 {theirs.number}。请核对编号（格式如 C-20261123-0001）。"]
    listing = (await texts(d, "/case_status"))[0]
    assert mine.number in listing and theirs.number not in listing
    assert "待处理" in listing and "16:00 前答复" in listing


async def test_english_customers_get_english(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    await say(d, "/lang en", sender="emma")
    assert "What is it about" in (await texts(d, "/complaint", sender="emma"))[0]
    await say(d, "/category service", sender="emma")
    await say(d, "Nobody answered the phone for an hour", sender="emma")
    done = await texts(d, "/skip", sender="emma")
    assert done[0].startswith("Your complaint is recorded as C-20261123-0001. We'll answer by")
