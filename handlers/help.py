"""Greeting, help and the answer to what the bot does not understand."""

from __future__ import annotations

from bot.dialogue.commands import START
from bot.dialogue.dispatch import FALLBACK, binding_prompt, main_menu
from bot.dialogue.turn import Turn


async def show_help(turn: Turn) -> None:
    turn.say("\n".join((turn.t("help.intro"), turn.t("help.commands"), turn.t("help.free_text"))),
             buttons=main_menu(turn))
    if turn.intent == START and turn.member is None:
        # A new follower or /start from a stranger: say straight away how to link up.
        binding_prompt(turn)


async def explain_not_understood(turn: Turn) -> None:
    turn.outcome = FALLBACK
    turn.say("\n".join((turn.t("help.fallback"), turn.t("help.intro"), turn.t("help.commands"))),
             buttons=main_menu(turn))
