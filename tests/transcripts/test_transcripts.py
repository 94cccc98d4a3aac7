"""Runs the conversation transcripts (*.yml here) through the real dialogue pipeline and the
embedded NLU model, on every test database.

A transcript is data a support lead can read: who the customer is, then what they say and
what the bot's answer must contain. ``{code}`` in a message stands for the last one-time code
the demo SMS sender wrote to the log, as a demo user would read it there.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import Kefu
from bot.cli.nlu_setup import build_nlu
from bot.core.messages import InboundMessage
from bot.core.storage import members as member_store
from bot.core.storage.db import transaction
from bot.dialogue.pipeline import Dialogue
from bot.dialogue.registry import Registry
from handlers import register_all
from nlu.protocol import NluBackend
from tests.conftest import FIXED_NOW, make_settings
from tests.factories import create_member, earn, purchase

HERE = Path(__file__).parent
TRANSCRIPTS = {path: yaml.safe_load(path.read_text("utf-8"))["conversations"]
               for path in sorted(HERE.glob("*.yml"))}
CASES = [(path, index, conversation["name"]) for path, conversations in TRANSCRIPTS.items()
         for index, conversation in enumerate(conversations)]
_CODE = re.compile(r"code (\d{6})")


@pytest.fixture(scope="session")
def nlu() -> NluBackend:
    return build_nlu(make_settings())


class Clock:
    """Ten seconds pass between messages, as in a real chat."""

    def __init__(self) -> None:
        self.now = FIXED_NOW

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=10)
        return self.now


async def _given(kefu: Kefu, conversation: dict[str, Any]) -> None:
    channel = conversation.get("channel", "web")
    sender = conversation.get("sender", "alice")
    people = [conversation["member"]] if "member" in conversation else []
    people += conversation.get("others", [])
    async with transaction(kefu.sessions) as session:
        for number, person in enumerate(people, start=1):
            birthday = person.get("birthday")
            member = await create_member(
                session, kefu, member_no=person.get("member_no", f"M10000{number}"),
                phone=person.get("phone", f"+861390000000{number}"),
                name=person.get("name", "测试会员"), language=person.get("language", "zh-Hans"),
                birthday=date.fromisoformat(str(birthday)) if birthday else None)
            if person.get("points"):
                await earn(session, member, int(person["points"]),
                           days_ago=int(person.get("points_days_ago", 10)))
            if person.get("expiring"):  # earned in November last year: lapses on 30 Nov
                await earn(session, member, int(person["expiring"]), days_ago=375)
            visits = int(person.get("visits", 0))  # spread `spend` over that many days
            for day in range(visits):
                await purchase(session, member, str(int(person["spend"]) // visits),
                               days_ago=day + 1)
            for index, spend in enumerate(person.get("purchases", [])):
                await purchase(session, member, str(spend), days_ago=index + 1)
            if number == 1 and person.get("bound", True) and "member" in conversation:
                identity = await member_store.ensure_identity(
                    session, channel=channel, external_id=sender, now=FIXED_NOW)
                await member_store.bind_identity(session, identity=identity, member=member,
                                                 now=FIXED_NOW)


@pytest.mark.parametrize(("path", "index", "name"), CASES,
                         ids=[f"{p.stem}:{n}" for p, _, n in CASES])
async def test_transcript(kefu: Kefu, nlu: NluBackend, caplog: pytest.LogCaptureFixture,
                          path: Path, index: int, name: str) -> None:
    conversation = TRANSCRIPTS[path][index]
    await _given(kefu, conversation)
    dialogue = Dialogue(services=replace(kefu.services, nlu=nlu), sessions=kefu.sessions,
                        registry=register_all(Registry()), clock=Clock())
    caplog.set_level(logging.INFO, logger="bot.features.binding")
    channel = conversation.get("channel", "web")
    sender = conversation.get("sender", "alice")
    for number, step in enumerate(conversation["turns"], start=1):
        text = str(step["user"])
        if "{code}" in text:
            codes = _CODE.findall(caplog.text)
            assert codes, f"{name}: no code was sent before turn {number}"
            text = text.replace("{code}", codes[-1])
        replies = await dialogue.handle(InboundMessage(channel, sender, text, FIXED_NOW,
                                                       message_id=step.get("message_id")))
        said = "\n".join(r.text for r in replies)
        payloads = [b.payload for r in replies for b in r.buttons]
        where = f"{path.name} / {name} / turn {number} ({text!r}) answered:\n{said}"
        for expected in _list(step.get("bot")):
            assert expected in said, where
        for unexpected in _list(step.get("not")):
            assert unexpected not in said, where
        for payload in _list(step.get("buttons")):
            assert payload in payloads, where + f"\nbuttons: {payloads}"


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
