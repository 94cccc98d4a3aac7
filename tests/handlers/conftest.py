"""Helpers for handler tests: a dialogue with a settable clock, and saying things to it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.app import Kefu
from bot.core.messages import InboundMessage, OutboundMessage
from bot.dialogue.pipeline import Dialogue
from bot.dialogue.registry import Registry
from handlers import register_all
from tests.conftest import FIXED_NOW


class Clock:
    def __init__(self) -> None:
        self.now = FIXED_NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Chat:
    """One sender talking to the bot."""

    def __init__(self, dialogue: Dialogue, *, channel: str = "web", sender: str = "alice"):
        self.dialogue, self.channel, self.sender = dialogue, channel, sender

    async def send(self, text: str, **extra: str | None) -> list[OutboundMessage]:
        return await self.dialogue.handle(InboundMessage(
            self.channel, self.sender, text, FIXED_NOW, **extra))  # type: ignore[arg-type]

    async def say(self, text: str, **extra: str | None) -> str:
        return "\n".join(r.text for r in await self.send(text, **extra))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dialogue(kefu: Kefu, clock: Clock) -> Dialogue:
    return Dialogue(services=kefu.services, sessions=kefu.sessions,
                    registry=register_all(Registry()), clock=clock)


@pytest.fixture
def chat(dialogue: Dialogue) -> Chat:
    return Chat(dialogue)
