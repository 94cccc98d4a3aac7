from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Kefu
from bot.core.errors import ConfigError
from bot.features.knowledge.base import KnowledgeBase, load_knowledge
from bot.features.knowledge.stores import find_stores, holiday_name, today_at
from bot.features.orders.plugin import OrderInfo
from bot.settings import OrdersSettings, Settings
from tests.handlers.conftest import Chat, Clock

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_knowledge_base_answers_common_questions() -> None:
    base = load_knowledge(ROOT / "knowledge.yml")
    for question, entry in [("怎么退货", "returns"), ("退款多久到账", "refund-time"),
                            ("發票怎麼開", "invoice"), ("do you take credit cards", "payment")]:
        assert base.search(question)[0].entry.id == entry, question
    assert base.search("tell me a joke about cats") == []


def test_edits_are_read_without_a_restart_and_bad_files_named(tmp_path: Path) -> None:
    path = tmp_path / "kb.yml"
    path.write_text("entries:\n  - {id: a, title: {en: Parking}, keywords: [parking],"
                    " answer: {en: Free for 2 hours.}}\n", "utf-8")
    assert load_knowledge(path).search("parking")[0].entry.id == "a"
    path.write_text("entries:\n  - {id: b, title: {en: Wifi}, keywords: [wifi],"
                    " answer: {en: Ask staff.}}\n", "utf-8")
    import os
    os.utime(path, (1, 1))  # a different mtime, as an edit makes
    assert load_knowledge(path).entries[0].id == "b"
    with pytest.raises(ConfigError, match="twice"):
        KnowledgeBase.from_yaml("entries:\n  - {id: a, answer: {en: x}}\n"
                                "  - {id: a, answer: {en: y}}\n")


def test_holiday_hours_apply_on_holidays_and_years_without_data(kefu: Kefu) -> None:
    jingan = find_stores(kefu.settings, store="sh-jingan")[0]
    national_day = datetime(2026, 10, 1, 4, 0, tzinfo=UTC)  # noon in Shanghai
    today = today_at(jingan, national_day)
    assert today.holiday == "国庆节" and today.hours == "10:00-22:30" and today.open_now
    assert holiday_name(datetime(2031, 10, 1).date(), "Asia/Shanghai") is not None
    # Traditional names come from the simplified ones, whichever holiday is asked first.
    assert holiday_name(datetime(2026, 10, 1).date(), "Asia/Shanghai", "zh-Hant") == "國慶節"
    assert holiday_name(datetime(2026, 5, 1).date(), "Asia/Shanghai", "zh-Hant") == "勞動節"
    assert today_at(jingan, datetime(2026, 11, 23, 15, 0, tzinfo=UTC)).open_now is False


async def test_store_answers_follow_the_city(chat: Chat, clock: Clock) -> None:
    answer = await chat.say("/store_hours 深圳")
    assert "深圳福田店" in answer and "上海" not in answer
    assert "没有找到" in await chat.say("/store_location 杭州")
    assert "广州天河店" in await chat.say("广州")


class FakeOrders:
    async def find_order(self, *, order_id: str, member_no: str) -> OrderInfo | None:
        if order_id == "SO20261120001" and member_no == "M100001":
            return OrderInfo(order_id, "shipped", carrier="SF", tracking_no="SF123")
        return None


def build(settings: Settings) -> FakeOrders:
    return FakeOrders()


async def test_an_order_system_plugs_in(kefu: Kefu, chat: Chat) -> None:
    from dataclasses import replace

    from tests.factories import bound_member

    await bound_member(kefu)
    plugged = kefu.settings.model_copy(update={
        "orders": OrdersSettings(plugin="tests.handlers.test_faq:build")})
    chat.dialogue.services = replace(chat.dialogue.services, settings=plugged)  # type: ignore[misc]
    answer = await chat.say("/order_status SO20261120001")
    assert "已发货" in answer and "SF123" in answer
    assert "没有找到" in await chat.say("/order_status SO0000")
