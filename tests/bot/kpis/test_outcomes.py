"""The dialogue records what it made of each message, which the bot KPIs count."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.app import Kefu, build_kefu
from bot.core.messages import InboundMessage
from bot.core.storage.models import Message
from bot.settings import Settings
from nlu.types import IntentScore, Parse
from tests.conftest import FIXED_NOW
from tests.factories import bound_member


class TornNlu:
    """Cannot decide between balance and expiry (unless the text is a /command)."""

    async def parse(self, text: str, *, timezone: str = "Asia/Shanghai") -> Parse:
        ranking = (IntentScore("points_balance", 0.46), IntentScore("points_expiry", 0.44),
                   IntentScore("member_tier", 0.05))
        return Parse(text, ranking[0], intent_ranking=ranking)


async def outcomes(kefu: Kefu) -> dict[str, str | None]:
    async with kefu.sessions() as session:
        # Loaded as entities: the ORM decrypts the stored text (bot/core/storage/sealed.py).
        rows = await session.scalars(select(Message).where(Message.direction == "in"))
        return {message.text: message.outcome for message in rows}


async def test_clarifying_question_fallback_and_plain_answer_are_recorded(
        settings: Settings) -> None:
    kefu = await build_kefu(settings, nlu=TornNlu(), clock=lambda: FIXED_NOW)
    try:
        await bound_member(kefu, points=700)
        for text in ("积分呢", "/points", "/no_such_command", "/out_of_scope"):
            await kefu.dialogue.handle(InboundMessage("web", "alice", text, datetime.now(UTC)))
        assert await outcomes(kefu) == {"积分呢": "clarify", "/points": None,
                                        "/no_such_command": "fallback",
                                        "/out_of_scope": "fallback"}
    finally:
        await kefu.aclose()
