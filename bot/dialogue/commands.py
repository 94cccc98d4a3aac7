"""Telegram-style /commands and the intents they stand for."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlu import intents

SET_LANGUAGE = "set_language"
HELP = "help"
START = "start"

COMMANDS: dict[str, str] = {
    "start": START,
    "help": HELP,
    "tier": intents.MEMBER_TIER,
    "benefits": intents.MEMBER_BENEFITS,
    "upgrade": intents.MEMBER_UPGRADE,
    "points": intents.POINTS_BALANCE,
    "balance": intents.POINTS_BALANCE,
    "history": intents.POINTS_HISTORY,
    "expiry": intents.POINTS_EXPIRY,
    "lang": SET_LANGUAGE,
    "language": SET_LANGUAGE,
}

# "/points", "/points@KefuBot", "/lang en"; commands are ASCII per Telegram's rules.
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{3,64})?(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    intent: str | None
    argument: str


def parse_command(text: str) -> Command | None:
    """The command in ``text``, or ``None`` when the text is not a command at all."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    name = match.group(1).lower()
    return Command(name=name, intent=COMMANDS.get(name), argument=(match.group(2) or "").strip())
