"""Answering a question later (after binding, or when the customer accepts an offer)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.dialogue.dispatch import answer
from bot.dialogue.forms import Form
from bot.dialogue.registry import Registry
from bot.dialogue.turn import Turn

OFFER_LIFETIME = timedelta(minutes=10)


def question_of(turn: Turn) -> dict[str, Any]:
    """The current question in a form that fits in the dialogue state (JSON)."""
    return {"intent": turn.intent, "text": turn.text, "argument": turn.argument}


def intent_title(turn: Turn, intent: str) -> str | None:
    key = f"intent_titles.{intent}"
    title = turn.t(key)
    return None if title == key else title


def offer(turn: Turn, intent: str, argument: str = "") -> None:
    """Remembers a yes/no offer, so that a plain "yes" next means ``intent``."""
    state = turn.state()
    state["offer"] = {"intent": intent, "argument": argument, "at": turn.now.isoformat()}
    turn.set_state(state)


def take_offer(turn: Turn) -> dict[str, Any] | None:
    """The offer made in the last few minutes, removed from the state."""
    state = turn.state()
    made = state.pop("offer", None)
    if made is None:
        return None
    turn.set_state(state)
    if not isinstance(made, dict):
        return None
    try:
        at = datetime.fromisoformat(str(made.get("at")))
    except ValueError:
        return None
    return made if turn.now - at <= OFFER_LIFETIME else None


@dataclass(frozen=True, slots=True)
class Followup:
    """What handlers need from the registry: forms by name, and answering a question."""

    registry: Registry

    def form(self, name: str) -> Form:
        form = self.registry.forms.get(name)
        if form is None:
            raise KeyError(f"form {name!r} is not registered")
        return form

    async def answer(self, turn: Turn, question: dict[str, Any]) -> None:
        """Answers ``question`` as if it were asked now (its entities parsed again)."""
        intent = question.get("intent")
        if not isinstance(intent, str):
            return
        turn.intent = intent
        turn.text = str(question.get("text") or "")
        turn.argument = str(question.get("argument") or "")
        turn.parse = None
        nlu = turn.services.nlu
        if nlu is not None and turn.text and not turn.text.startswith("/"):
            zone = turn.member.timezone if turn.member else turn.settings.app.default_timezone
            parsed = await nlu.parse(turn.text, timezone=zone)
            # Keep the intent asked about; the parse only brings back the entities.
            turn.parse = replace(parsed, intent=replace(parsed.intent, name=intent))
        await answer(turn, self.registry)
