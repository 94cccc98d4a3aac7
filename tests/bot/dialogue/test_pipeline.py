from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.app import Kefu
from bot.core.messages import InboundMessage
from bot.core.storage.db import transaction
from bot.core.storage.models import Message
from bot.features.loyalty.service import member_standing
from tests.factories import bound_member


def inbound(text: str, *, sender: str = "alice", message_id: str | None = None,
            channel: str = "web") -> InboundMessage:
    return InboundMessage(channel=channel, sender_id=sender, text=text,
                          received_at=datetime.now(UTC), message_id=message_id)


async def test_points_command_answers_the_ledger_balance(kefu: Kefu) -> None:
    member = await bound_member(kefu, points=1234)
    replies = await kefu.dialogue.handle(inbound("/points"))
    async with transaction(kefu.sessions) as session:
        refreshed = await session.merge(member)
        standing = await member_standing(session, member=refreshed, settings=kefu.settings,
                                         now=datetime.now(UTC))
    assert standing.points.balance == 1234
    assert "1,234" in replies[0].text


async def test_unbound_sender_is_told_how_to_bind(kefu: Kefu) -> None:
    replies = await kefu.dialogue.handle(inbound("/points", sender="stranger"))
    assert "绑定" in replies[0].text
    assert "手机号" in replies[-1].text  # binding starts right away
    english = await kefu.dialogue.handle(inbound("/lang en", sender="stranger"))
    assert "English" in english[0].text
    again = await kefu.dialogue.handle(inbound("/tier", sender="stranger"))
    assert "link your account" in again[0].text


async def test_redelivered_message_is_stored_once_and_answered_the_same(kefu: Kefu) -> None:
    await bound_member(kefu, points=500)
    first = await kefu.dialogue.handle(inbound("/points", message_id="m-1"))
    second = await kefu.dialogue.handle(inbound("/points", message_id="m-1"))
    assert [r.text for r in first] == [r.text for r in second]
    async with kefu.sessions() as session:
        inbound_rows = await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "in"))
        outbound_rows = await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "out"))
    assert inbound_rows == 1
    assert outbound_rows == len(first)


async def test_bad_text_gets_a_polite_reply(kefu: Kefu) -> None:
    for text in ("", "   ", "\x00\x01\x02", "\u200f\u202e"):
        replies = await kefu.dialogue.handle(inbound(text, sender="odd"))
        assert replies and replies[0].text, repr(text)
    huge = await kefu.dialogue.handle(inbound("积分" * 5000, sender="odd"))
    assert huge and huge[0].text
    async with kefu.sessions() as session:
        # Texts are stored encrypted: measure what they decrypt to.
        longest = max(len(m.text) for m in (await session.execute(select(Message))).scalars())
    assert longest <= kefu.settings.app.max_message_chars


async def test_unknown_command_is_named_and_help_follows(kefu: Kefu) -> None:
    replies = await kefu.dialogue.handle(inbound("/frobnicate", sender="x"))
    assert "/frobnicate" in replies[0].text
    assert any("/points" in r.text for r in replies)


async def test_language_follows_the_script_of_the_message(kefu: Kefu) -> None:
    await bound_member(kefu, points=800)
    english = await kefu.dialogue.handle(inbound("/lang en"))
    assert "English" in english[0].text
    tier = await kefu.dialogue.handle(inbound("/tier"))
    assert "member" in tier[0].text
    traditional = await kefu.dialogue.handle(inbound("/lang 繁體"))
    assert "繁體" in traditional[0].text
    tier_hant = await kefu.dialogue.handle(inbound("/tier"))
    assert "會員" in tier_hant[0].text


async def test_benefits_of_a_named_tier_need_no_binding(kefu: Kefu) -> None:
    replies = await kefu.dialogue.handle(inbound("/benefits gold", sender="visitor"))
    assert "金卡会员" in replies[0].text
    assert "免运费" in replies[0].text


async def test_history_is_paginated_with_a_more_button(kefu: Kefu) -> None:
    from tests.factories import earn

    member = await bound_member(kefu, points=0)
    async with transaction(kefu.sessions) as session:
        for day in range(1, 8):
            await earn(session, member, 10 * day, days_ago=day)
    first = await kefu.dialogue.handle(inbound("/history"))
    assert first[0].buttons and first[0].buttons[0].payload == "/history 1"
    second = await kefu.dialogue.handle(inbound(first[0].buttons[0].payload))
    assert not second[0].buttons
    assert "+70" in second[0].text  # the oldest entry (7 days ago) is on the second page
