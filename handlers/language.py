"""Choosing the language the bot answers in."""

from __future__ import annotations

from bot.dialogue.turn import Turn
from bot.i18n import normalize_language


async def set_language(turn: Turn) -> None:
    chosen = normalize_language(turn.argument)
    if chosen is None:
        turn.say(turn.t("lang.unknown"))
        return
    turn.identity.language = chosen
    if turn.member is not None:
        turn.member.language = chosen
    turn.language = chosen
    turn.say(turn.t("lang.set"))
