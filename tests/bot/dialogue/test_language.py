"""The conversation keeps its language: buttons answer in the language last written in, a
language the customer chose wins until they choose another, /lang alone lists the choices."""

from datetime import UTC, datetime

from bot.app import Kefu
from bot.core.messages import InboundMessage, OutboundMessage
from tests.factories import bound_member


async def say(kefu: Kefu, text: str, *, sender: str = "alice") -> list[OutboundMessage]:
    return await kefu.dialogue.handle(InboundMessage("web", sender, text, datetime.now(UTC)))


async def test_a_button_answers_in_the_language_last_written_in(kefu: Kefu) -> None:
    await bound_member(kefu)  # a member whose language on file is zh-Hans
    await say(kefu, "hello, can you help me")
    assert (await say(kefu, "/member_tier"))[0].text.startswith("You are a")
    assert (await say(kefu, "/points"))[0].text.startswith("You have")
    # Writing in Chinese again moves the conversation back; buttons follow.
    await say(kefu, "你好")
    assert (await say(kefu, "/member_tier"))[0].text.startswith("您当前是")


async def test_a_complaint_category_button_keeps_english(kefu: Kefu) -> None:
    await say(kefu, "hello there", sender="visitor")
    first = await say(kefu, "/complaint", sender="visitor")
    assert [b.title for b in first[0].buttons][:3] == ["Product", "Service", "Staff"]
    assert "describe" in (await say(kefu, "/category staff", sender="visitor"))[0].text


async def test_a_chosen_language_wins_until_another_is_chosen(kefu_nlu: Kefu) -> None:
    kefu = kefu_nlu
    await bound_member(kefu)
    assert "English" in (await say(kefu, "/lang en"))[0].text
    assert (await say(kefu, "我是什么等级"))[0].text.startswith("You are a")
    assert (await say(kefu, "我的積分"))[0].text.startswith("You ")
    assert "简体中文" in (await say(kefu, "/lang zh-Hans"))[0].text
    assert (await say(kefu, "what tier am I"))[0].text.startswith("您当前是")


async def test_lang_alone_lists_the_choices(kefu: Kefu) -> None:
    replies = await say(kefu, "/lang", sender="visitor")
    assert "不支持" not in replies[0].text
    assert [(b.title, b.payload) for b in replies[0].buttons] == [
        ("简体中文", "/lang zh-Hans"), ("繁體中文", "/lang zh-Hant"), ("English", "/lang en")]
    unknown = await say(kefu, "/lang klingon", sender="visitor")
    assert "klingon" in unknown[0].text and len(unknown[0].buttons) == 3
    assert "繁體中文" in (await say(kefu, "/lang zh-Hant", sender="visitor"))[0].text
