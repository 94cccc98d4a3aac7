"""The innermost step: forms first, then the intent's handler, or an honest fallback."""

from __future__ import annotations

from bot.core.messages import Button
from bot.dialogue.forms import continue_form
from bot.dialogue.registry import Registry
from bot.dialogue.turn import Turn
from nlu import intents
from nlu.confidence import close_alternatives

HELP_INTENT = "help"
# Turn outcomes the KPIs count (bot/features/kpis): a "did you mean" question, an admitted fallback.
CLARIFY, FALLBACK = "clarify", "fallback"
# Intents never offered in a "did you mean" question: too vague to be worth a choice.
_NOT_OFFERED = {intents.OUT_OF_SCOPE, intents.AFFIRM, intents.DENY}
# Below this confidence even the best guess is not offered as a choice.
OFFER_FLOOR = 0.25


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
    if await continue_form(turn, registry.forms, lambda t: answer(t, registry)):
        return
    await answer(turn, registry)


def _ambiguous(turn: Turn) -> list[str] | None:
    """The intents to offer when the NLU could not tell them apart (at most three)."""
    parse = turn.parse
    margin = turn.settings.nlu.ambiguity_margin
    if parse is None or margin <= 0 or not parse.intent_ranking:
        return None
    best = parse.intent_ranking[0]
    if best.name == intents.OUT_OF_SCOPE or best.confidence < OFFER_FLOOR:
        return None  # plainly off-topic, or nothing likely enough to be worth offering
    choices = [c for c in close_alternatives(parse, margin=margin) if c not in _NOT_OFFERED]
    return choices[:3] if len(choices) >= 2 else None


async def answer(turn: Turn, registry: Registry) -> None:
    """Answers the turn's intent (outside any form)."""
    state = turn.state()
    clarified = state.pop("clarify", None)
    if clarified is not None:
        turn.set_state(state)
    if turn.intent is None:
        turn.say(turn.t("help.empty"), buttons=main_menu(turn))
        return
    choices = _ambiguous(turn)
    if choices is not None and all(registry.route(c) for c in choices):
        state["clarify"] = {"text": turn.text, "choices": choices}
        turn.set_state(state)
        turn.outcome = CLARIFY
        turn.say(turn.t("clarify.question"), buttons=tuple(
            Button(turn.t(f"intent_titles.{name}"), f"/{name}") for name in choices))
        return
    _count_misunderstandings(turn)
    route = registry.route(turn.intent)
    if route is None:
        if turn.intent != intents.OUT_OF_SCOPE:
            turn.outcome = FALLBACK  # out_of_scope's own handler says whether it found an answer
        if turn.text.startswith("/"):
            turn.say(turn.t("help.unknown_command", command="/" + turn.intent))
        fallback = registry.route(intents.OUT_OF_SCOPE if turn.intent == intents.OUT_OF_SCOPE
                                  else HELP_INTENT) or registry.route(HELP_INTENT)
        if fallback is not None:
            await fallback.handler(turn)
        return
    if route.needs_member and turn.member is None:
        unbound = registry.route("unbound_member")
        if unbound is not None:
            await unbound.handler(turn)
        else:
            binding_prompt(turn)
        return
    await route.handler(turn)


def _count_misunderstandings(turn: Turn) -> None:
    """Keeps how many messages in a row the bot did not understand (handoff uses it)."""
    state = turn.state()
    if turn.intent == intents.OUT_OF_SCOPE:
        state["misunderstood"] = int(state.get("misunderstood", 0)) + 1
    elif state.get("misunderstood"):
        state["misunderstood"] = 0
    else:
        return
    turn.set_state(state)
