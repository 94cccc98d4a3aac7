"""Builders for case tests: a dialogue on a movable clock, agents, a filed complaint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.app import Kefu
from bot.console.passwords import hash_password
from bot.core.messages import InboundMessage, OutboundMessage
from bot.core.storage.db import transaction
from bot.core.storage.models_cases import Agent, Case
from bot.dialogue.pipeline import Dialogue
from bot.dialogue.registry import Registry
from bot.features.cases import agents as agent_store
from bot.features.cases import store
from handlers import register_all
from tests.conftest import FIXED_NOW

PASSWORD = "correct-horse-42"


class Clock:
    """A clock tests move by hand; starts at FIXED_NOW (Monday 14:00 in Shanghai)."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def dialogue(kefu: Kefu, clock: Clock) -> Dialogue:
    return Dialogue(services=kefu.services, sessions=kefu.sessions,
                    registry=register_all(Registry()), clock=clock)


async def say(d: Dialogue, text: str, *, sender: str = "alice",
              channel: str = "web") -> list[OutboundMessage]:
    return await d.handle(InboundMessage(channel, sender, text, datetime.now(UTC)))


async def texts(d: Dialogue, text: str, **kwargs: str) -> list[str]:
    return [m.text for m in await say(d, text, **kwargs)]


async def add_agent(kefu: Kefu, *, email: str = "li@kefu.test", role: str = "agent",
                    name: str = "李华", password: str = PASSWORD,
                    seen: datetime | None = None) -> Agent:
    async with transaction(kefu.sessions) as session:
        agent = await agent_store.add_agent(session, email=email, display_name=name, role=role,
                                            password_hash=hash_password(password), now=FIXED_NOW)
        agent.last_seen_at = seen
    return agent


async def file_complaint(kefu: Kefu, d: Dialogue, *, sender: str = "alice",
                         channel: str = "web",
                         description: str = "面包里有一根头发，很不卫生") -> Case:
    """Walks the complaint form with buttons and returns the case it created."""
    for text in ("/complaint", "/category product", description, "/skip", "/skip"):
        await say(d, text, sender=sender, channel=channel)
    return await latest_case(kefu)


async def latest_case(kefu: Kefu) -> Case:
    async with transaction(kefu.sessions) as session:
        last = await session.scalar(select(func.max(Case.id)))
        case = await store.get_case(session, case_id=int(last or 0))
    assert case is not None, "no case was created"
    return case


async def get_case(kefu: Kefu, case_id: int) -> Case:
    async with transaction(kefu.sessions) as session:
        case = await store.get_case(session, case_id=case_id)
    assert case is not None
    return case
