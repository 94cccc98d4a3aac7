"""Small talk: hello, goodbye, thanks, yes/no in context, and an honest "I am a bot"."""

from __future__ import annotations

import functools

from bot.core.messages import Button
from bot.dialogue.dispatch import main_menu
from bot.dialogue.registry import Registry
from bot.dialogue.turn import Turn
from handlers.followup import Followup, take_offer
from nlu import intents


def _person_button(turn: Turn) -> Button:
    return Button(turn.t("intent_titles.human_agent"), f"/{intents.HUMAN_AGENT}")


async def greet(turn: Turn) -> None:
    name = turn.services.directory.name(turn.member) if turn.member is not None else None
    hello = turn.t("smalltalk.greet_member", name=name) if name else turn.t("smalltalk.greet")
    turn.say("\n".join((hello, turn.t("help.intro"), turn.t("help.commands"))),
             buttons=main_menu(turn))


async def say_goodbye(turn: Turn) -> None:
    take_offer(turn)
    turn.say(turn.t("smalltalk.goodbye"))


async def thank_back(turn: Turn) -> None:
    turn.say(turn.t("smalltalk.thank"))


async def admit_bot(turn: Turn) -> None:
    """bot_challenge: say plainly that this is a bot, and how to reach a person."""
    # No yes/no offer here: "ok" after this answer is an acknowledgement, not a request.
    turn.say(turn.t("smalltalk.bot"), buttons=(_person_button(turn),))


async def accept_offer(turn: Turn, *, followup: Followup) -> None:
    """affirm: yes to the offer just made (e.g. a person), else a friendly acknowledgement."""
    made = take_offer(turn)
    if made is None:
        turn.say(turn.t("smalltalk.affirm"))
        return
    intent = str(made["intent"])
    await followup.answer(turn, {"intent": intent, "text": f"/{intent}",
                                 "argument": made.get("argument", "")})


async def decline_offer(turn: Turn) -> None:
    made = take_offer(turn)
    turn.say(turn.t("smalltalk.deny_offer" if made else "smalltalk.deny"))


def register(registry: Registry, followup: Followup) -> None:
    registry.add(intents.GREET, greet)
    registry.add(intents.GOODBYE, say_goodbye)
    registry.add(intents.THANK, thank_back)
    registry.add(intents.BOT_CHALLENGE, admit_bot)
    handler = functools.partial(accept_offer, followup=followup)
    registry.add(intents.AFFIRM, functools.update_wrapper(handler, accept_offer))
    registry.add(intents.DENY, decline_offer)
