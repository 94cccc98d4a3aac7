"""Free text is understood before the turn's transaction opens: an NLU that takes time (a
Rasa server over the network) never runs while the turn holds SQLite's single writer."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import build_kefu
from bot.core.messages import InboundMessage
from bot.core.storage import statements
from bot.settings import Settings
from nlu.types import IntentScore, Parse
from tests.conftest import FIXED_NOW


class WatchingNlu:
    """Answers "greet" and notes how many SQL statements the turn had sent by then."""

    def __init__(self) -> None:
        self.statements_before: list[int] = []
        self.log: statements.StatementLog | None = None

    async def parse(self, text: str, *, timezone: str = "Asia/Shanghai") -> Parse:
        assert self.log is not None
        self.statements_before.append(self.log.count)
        greet = IntentScore("greet", 0.99)
        return Parse(text=text, intent=greet, intent_ranking=(greet,))


async def test_the_nlu_runs_before_the_first_statement(settings: Settings) -> None:
    nlu = WatchingNlu()
    kefu = await build_kefu(settings, nlu=nlu, clock=lambda: FIXED_NOW)
    try:
        with statements.recording(kefu.engine) as log:
            nlu.log = log
            replies = await kefu.dialogue.handle(InboundMessage(
                channel="web", sender_id="early", text="hello there",
                received_at=datetime.now(UTC)))
    finally:
        await kefu.aclose()
    assert replies
    assert nlu.statements_before == [0]  # once, and before the transaction
    assert log.count > 0


async def test_commands_skip_the_early_parse(settings: Settings) -> None:
    nlu = WatchingNlu()
    kefu = await build_kefu(settings, nlu=nlu, clock=lambda: FIXED_NOW)
    try:
        with statements.recording(kefu.engine) as log:
            nlu.log = log
            await kefu.dialogue.handle(InboundMessage(
                channel="web", sender_id="early", text="/help", received_at=datetime.now(UTC)))
    finally:
        await kefu.aclose()
    assert nlu.statements_before == []
