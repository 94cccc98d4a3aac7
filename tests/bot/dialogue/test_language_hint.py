"""The channel's language hint is read: it answers a message that carries no language."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import Kefu
from bot.core.messages import InboundMessage


async def start(kefu: Kefu, sender: str, hint: str | None) -> str:
    replies = await kefu.dialogue.handle(InboundMessage(
        "web", sender, "/start", datetime.now(UTC), language_hint=hint))
    return replies[0].text


async def test_a_client_language_answers_a_first_command(kefu: Kefu) -> None:
    english = await start(kefu, "hint-en", "en-US")
    chinese = await start(kefu, "hint-zh", "zh-hans")
    unknown = await start(kefu, "hint-xx", "ru")
    assert english != chinese
    assert not any("\u4e00" <= c <= "\u9fff" for c in english)
    assert any("\u4e00" <= c <= "\u9fff" for c in chinese)
    assert unknown == chinese  # not a language Kefu speaks: the default (zh-Hans)


async def test_what_the_customer_writes_wins_over_the_hint(kefu: Kefu) -> None:
    await kefu.dialogue.handle(InboundMessage("web", "hint-writer", "你好", datetime.now(UTC),
                                              language_hint="en"))
    again = await start(kefu, "hint-writer", "en")
    assert any("\u4e00" <= c <= "\u9fff" for c in again)
