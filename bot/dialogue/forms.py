"""Multi-turn forms: slot filling from entities and answers, cancel, timeout, interruptions.

A handler starts a form with :func:`start_form`; from then on the ``run_forms`` middleware
feeds each message to the form until every slot is filled (then ``on_complete`` runs), the
customer cancels (算了 / 取消 / cancel), the form times out, or the customer asks something
else: that question is answered and the form asks its pending question again.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.core.messages import Button
from bot.dialogue.turn import Turn
from nlu import intents

# Parses the answer to a slot: returns the value, or None when the answer does not fit.
SlotParser = Callable[[Turn, str], Any]
ButtonMaker = Callable[[Turn], tuple[Button, ...]]
Completion = Callable[[Turn, dict[str, Any]], Awaitable[None]]

CANCEL_WORDS = re.compile(
    r"^\s*(算了|取消|不用了|不要了|不弄了|退出|結束|结束|cancel|stop|quit|never\s*mind|forget\s*it)"
    r"[\s.!。！]*$", re.IGNORECASE)
# Intents that may interrupt a form: the customer plainly asks something else.
NOT_INTERRUPTING = {intents.AFFIRM, intents.DENY, intents.OUT_OF_SCOPE, intents.GREET,
                    intents.THANK}
INTERRUPT_CONFIDENCE = 0.75


@dataclass(frozen=True, slots=True)
class Slot:
    """One question of a form."""

    name: str
    prompt: str  # locale key of the question
    parse: SlotParser
    invalid: str = "forms.invalid"  # locale key said when the answer does not fit
    entity: str | None = None  # an entity of this type fills the slot directly
    buttons: ButtonMaker | None = None
    # Free-text slots take any answer, so nothing the customer says there interrupts.
    free_text: bool = False
    # Skipped when this returns False for the values gathered so far.
    when: Callable[[dict[str, Any]], bool] | None = None
    # Placeholders of the prompt, from the values gathered so far ("confirm {reward}?").
    prompt_values: Callable[[Turn, dict[str, Any]], dict[str, Any]] | None = None
    # Ask for the customer's own contact with the question, where the channel can share it.
    request_contact: Callable[[Turn], bool] | None = None
    # Personal data is asked for: how the transcript masks the answer (bot/dialogue/redact.py:
    # "secret" is never stored, "phone", "name", "address", "date" are masked).
    personal: str | None = None


@dataclass(frozen=True, slots=True)
class Form:
    name: str
    slots: tuple[Slot, ...]
    on_complete: Completion
    timeout: timedelta = timedelta(minutes=30)
    on_cancel: Callable[[Turn, dict[str, Any]], Awaitable[None]] | None = None
    cancelled: str = "forms.cancelled"
    # Looks at each message before its answer is parsed: values returned complete the form
    # at once (an urgent complaint is handed over without asking the rest); None carries on.
    finish_now: Callable[[Turn, dict[str, Any]], dict[str, Any] | None] | None = None


@dataclass(slots=True)
class FormRegistry:
    forms: dict[str, Form] = field(default_factory=dict)

    def add(self, form: Form) -> None:
        if form.name in self.forms:
            raise ValueError(f"form {form.name!r} is registered twice")
        self.forms[form.name] = form

    def get(self, name: str) -> Form | None:
        return self.forms.get(name)


def active_form(turn: Turn) -> dict[str, Any] | None:
    form = turn.state().get("form")
    return form if isinstance(form, dict) else None


def _save(turn: Turn, form_state: dict[str, Any] | None) -> None:
    state = turn.state()
    if form_state is None:
        state.pop("form", None)
    else:
        state["form"] = form_state
    turn.set_state(state)


def _pending(form: Form, values: dict[str, Any]) -> Slot | None:
    for slot in form.slots:
        if slot.name in values:
            continue
        if slot.when is not None and not slot.when(values):
            continue
        return slot
    return None


def _ask(turn: Turn, slot: Slot, values: dict[str, Any], *, prefix: str | None = None) -> None:
    text = turn.t(slot.prompt, **(slot.prompt_values(turn, values) if slot.prompt_values else {}))
    turn.say(f"{prefix}\n{text}" if prefix else text,
             buttons=slot.buttons(turn) if slot.buttons else (),
             request_contact=bool(slot.request_contact and slot.request_contact(turn)))


async def start_form(turn: Turn, form: Form, *, values: dict[str, Any] | None = None) -> None:
    """Begins ``form``: fills what the message's entities already give, asks the rest."""
    gathered = dict(values or {})
    if turn.parse is not None:
        for slot in form.slots:
            if slot.entity and slot.name not in gathered:
                found = turn.parse.first_entity(slot.entity)
                if found is not None:
                    value = slot.parse(turn, str(found))
                    if value is not None:
                        gathered[slot.name] = value
    if await _finished_now(turn, form, gathered):
        return
    await _advance(turn, form, gathered)


async def _finished_now(turn: Turn, form: Form, values: dict[str, Any]) -> bool:
    done = form.finish_now(turn, values) if form.finish_now is not None else None
    if done is None:
        return False
    _save(turn, None)
    await form.on_complete(turn, done)
    return True


async def _advance(turn: Turn, form: Form, values: dict[str, Any]) -> None:
    slot = _pending(form, values)
    if slot is None:
        _save(turn, None)
        await form.on_complete(turn, values)
        return
    _save(turn, {"name": form.name, "values": values, "asking": slot.name,
                 "personal": slot.personal, "started_at": turn.now.isoformat()})
    _ask(turn, slot, values)


async def continue_form(turn: Turn, forms: FormRegistry,
                        answer_other: Callable[[Turn], Awaitable[None]]) -> bool:
    """Feeds this message to the active form. Returns False when there is none (or it
    expired), so the message is handled as usual."""
    current = active_form(turn)
    if current is None:
        return False
    form = forms.get(str(current.get("name")))
    started = _parse_time(current.get("started_at"))
    if form is None or started is None or turn.now - started > form.timeout:
        _save(turn, None)
        if form is not None:
            turn.say(turn.t("forms.expired"))
        return False
    values: dict[str, Any] = dict(current.get("values") or {})
    slot = next((s for s in form.slots if s.name == current.get("asking")), None)
    if slot is None:
        _save(turn, None)
        return False
    if CANCEL_WORDS.match(turn.text):
        _save(turn, None)
        if form.on_cancel is not None:
            await form.on_cancel(turn, values)
        else:
            turn.say(turn.t(form.cancelled))
        return True
    if await _finished_now(turn, form, values):
        return True
    value = slot.parse(turn, turn.text) if turn.text else None
    if value is None and _interrupts(turn, slot):
        await answer_other(turn)
        # The interruption may itself have started or ended a form; only re-ask our own.
        if active_form(turn) == current:
            _ask(turn, slot, values, prefix=turn.t("forms.resume"))
        return True
    if value is None:
        turn.say(turn.t(slot.invalid), buttons=slot.buttons(turn) if slot.buttons else ())
        _ask(turn, slot, values)
        return True
    values[slot.name] = value
    await _advance(turn, form, values)
    return True


def _interrupts(turn: Turn, slot: Slot) -> bool:
    if slot.free_text or turn.intent is None:
        return False
    if turn.text.startswith("/"):
        return True  # a command or a button of another question
    if turn.intent in NOT_INTERRUPTING:
        return False
    return turn.parse is not None and turn.parse.intent.confidence >= INTERRUPT_CONFIDENCE


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def affirmed(turn: Turn, text: str) -> bool | None:
    """Parser for yes/no slots: the affirm/deny intent, or the usual words and buttons."""
    if turn.intent == intents.AFFIRM:
        return True
    if turn.intent == intents.DENY:
        return False
    word = text.strip().lower().rstrip("!.。！")
    if word in {"是", "是的", "对", "好", "好的", "确认", "確認", "可以", "yes", "y", "ok", "sure"}:
        return True
    if word in {"不", "不是", "否", "不要", "不用", "no", "n", "nope"}:
        return False
    return None


def yes_no_buttons(turn: Turn) -> tuple[Button, ...]:
    return (Button(turn.t("forms.yes"), "/affirm"), Button(turn.t("forms.no"), "/deny"))
