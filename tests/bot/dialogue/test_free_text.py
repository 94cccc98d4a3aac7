"""Free text through the real embedded NLU into the handlers, in all three languages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app import Kefu, build_kefu
from bot.core.messages import InboundMessage
from bot.settings import Settings
from nlu.types import IntentScore, Parse
from tests.conftest import FIXED_NOW
from tests.factories import bound_member


def inbound(text: str, sender: str = "alice") -> InboundMessage:
    return InboundMessage("web", sender, text, datetime.now(UTC))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的积分还剩多少", "可用积分：1,500 分"),
        ("我嘅積分仲有幾多", "可用積分：1,500 分"),
        ("how many points do I have?", "You have 1,500 points"),
        ("我的points还有多少😅", "1,500"),
        ("我现在是什么会员", "您当前是【"),
        ("what tier am I", "member"),
        ("我的積分什麼時候過期", "積分到期安排"),
    ],
)
async def test_questions_in_free_text_are_answered(kefu_nlu: Kefu, text: str,
                                                   expected: str) -> None:
    await bound_member(kefu_nlu, points=1500)
    replies = await kefu_nlu.dialogue.handle(inbound(text))
    assert expected in "\n".join(r.text for r in replies)


@pytest.mark.parametrize("text", ["今天天气怎么样", "tell me a joke about cats"])
async def test_off_topic_text_is_out_of_scope_and_counted(kefu_nlu: Kefu, text: str) -> None:
    replies = await kefu_nlu.dialogue.handle(inbound(text, sender="visitor"))
    assert replies[0].text.startswith(("抱歉", "Sorry"))
    assert not any(r.text == "Which one did you mean?" for r in replies)
    async with kefu_nlu.sessions() as session:
        from bot.core.storage.conversations import current_conversation
        from bot.core.storage.members import find_identity

        identity = await find_identity(session, channel="web", external_id="visitor")
        assert identity is not None
        conversation = await current_conversation(session, identity=identity, now=FIXED_NOW)
    # one more in a row hands the conversation to a person (tests/cases)
    assert conversation.state.get("misunderstood") == 1


class TornNlu:
    """Cannot decide between balance and expiry."""

    async def parse(self, text: str, *, timezone: str = "Asia/Shanghai") -> Parse:
        ranking = (IntentScore("points_balance", 0.46), IntentScore("points_expiry", 0.44),
                   IntentScore("member_tier", 0.05))
        return Parse(text, ranking[0], intent_ranking=ranking)


async def test_close_call_asks_which_was_meant(settings: Settings) -> None:
    kefu = await build_kefu(settings, nlu=TornNlu(), clock=lambda: FIXED_NOW)
    try:
        await bound_member(kefu, points=700)
        replies = await kefu.dialogue.handle(inbound("积分呢"))
        assert replies[0].text == "您是想问哪一个？"
        payloads = [b.payload for b in replies[0].buttons]
        assert payloads == ["/points_balance", "/points_expiry"]
        chosen = await kefu.dialogue.handle(inbound(payloads[0]))
        assert "700" in chosen[0].text
    finally:
        await kefu.aclose()
