"""The innermost step: hand the turn to its intent's handler, or explain what is possible."""

from __future__ import annotations

from bot.dialogue.registry import Registry
from bot.dialogue.turn import Turn
from bot.messages import Button
from nlu import intents

HELP_INTENT = "help"


def binding_prompt(turn: Turn) -> None:
    if turn.inbound.channel == "telegram":
        turn.say(turn.t("unbound.need_binding_contact"), request_contact=True)
    else:
        turn.say(turn.t("unbound.need_binding"))


def main_menu(turn: Turn) -> tuple[Button, ...]:
    return (
        Button(turn.t("buttons.points"), "/points"),
        Button(turn.t("buttons.tier"), "/tier"),
        Button(turn.t("buttons.benefits"), "/benefits"),
    )


async def dispatch(turn: Turn, registry: Registry) -> None:
    if turn.intent is None:
        turn.say(turn.t("help.empty"), buttons=main_menu(turn))
        return
    route = registry.route(turn.intent)
    if route is None:
        if turn.intent.startswith("unknown_command:"):
            turn.say(turn.t("help.unknown_command", command="/" + turn.intent.split(":", 1)[1]))
        fallback = registry.route(HELP_INTENT if turn.intent != intents.OUT_OF_SCOPE
                                  else intents.OUT_OF_SCOPE) or registry.route(HELP_INTENT)
        if fallback is not None:
            await fallback.handler(turn)
        return
    if route.needs_member and turn.member is None:
        binding_prompt(turn)
        return
    await route.handler(turn)
