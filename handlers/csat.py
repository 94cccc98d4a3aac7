"""The satisfaction questions after a case closes: a rating form, then a comment form.

What they read and store is the cases feature's (bot/features/cases/csat.py); the desk opens
the rating form from outside a turn with its ``ask_state``.
"""

from __future__ import annotations

from typing import Any

from bot.core.messages import Button
from bot.dialogue.forms import Form, Slot, start_form
from bot.dialogue.turn import Turn
from bot.features.cases.csat import (
    FORM_NAME,
    TIMEOUT,
    parse_comment,
    parse_rating,
    rating_buttons,
    save_comment,
    save_rating,
)


def rating_slot(_turn: Turn, text: str) -> int | None:
    return parse_rating(text)


def comment_slot(_turn: Turn, text: str) -> str | None:
    return parse_comment(text)


def _buttons(turn: Turn) -> tuple[Button, ...]:
    return rating_buttons(turn.t)


def _skip_button(turn: Turn) -> tuple[Button, ...]:
    return (Button(turn.t("csat.skip"), "/skip"),)


async def _rated(turn: Turn, values: dict[str, Any]) -> None:
    # Kept at once: a customer who rates and walks away has still rated.
    case_id = int(values["case_id"])
    if await save_rating(turn.session, case_id=case_id, score=int(values["rating"]),
                         now=turn.now):
        await start_form(turn, COMMENT_FORM, values={"case_id": case_id})
    else:
        turn.say(turn.t("csat.thanks"))


async def _commented(turn: Turn, values: dict[str, Any]) -> None:
    await save_comment(turn.session, case_id=int(values["case_id"]),
                       comment=str(values.get("comment") or ""), now=turn.now)
    turn.say(turn.t("csat.thanks"))


async def _no_comment(turn: Turn, _values: dict[str, Any]) -> None:
    turn.say(turn.t("csat.thanks"))


FORM = Form(
    name=FORM_NAME,
    slots=(Slot("rating", "csat.ask", rating_slot, invalid="csat.invalid", buttons=_buttons),),
    on_complete=_rated,
    timeout=TIMEOUT,
)
COMMENT_FORM = Form(
    name=FORM_NAME + "_comment",
    slots=(Slot("comment", "csat.comment", comment_slot, buttons=_skip_button),),
    on_complete=_commented,
    on_cancel=_no_comment,
)
FORMS = (FORM, COMMENT_FORM)
