"""Customer satisfaction after a close: a 1–5 rating, then an optional comment, on the case."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.core.messages import Button
from bot.core.storage.models_cases import Case
from bot.dialogue.forms import Form, Slot, start_form
from bot.dialogue.turn import Turn
from bot.features.cases import store

FORM_NAME = "csat"
TIMEOUT = timedelta(hours=72)
MAX_COMMENT_CHARS = 2000
_RATING = re.compile(r"^\s*(?:/csat\s*)?([1-5])\s*(?:分|星|stars?|/\s*5)?\s*[.!。！]?\s*$",
                     re.IGNORECASE)
_SKIP = re.compile(r"^\s*(/skip|跳过|跳過|不用了?|没有了?|沒有了?|no|none|skip|nothing)"
                   r"[\s.!。！]*$", re.IGNORECASE)


def parse_rating(_turn: Turn, text: str) -> int | None:
    """``"5"``, ``"/csat 5"``, ``"4分"``, ``"⭐⭐⭐"`` → the rating; anything else → None."""
    stars = text.count("⭐")
    if stars and not text.replace("⭐", "").strip():
        return stars if 1 <= stars <= 5 else None
    match = _RATING.match(text)
    return int(match.group(1)) if match else None


def parse_comment(_turn: Turn, text: str) -> str | None:
    if not text.strip():
        return None
    if text.startswith("/") and not _SKIP.match(text):
        return None  # a command or another question's button: answered, then asked again
    return "" if _SKIP.match(text) else text.strip()[:MAX_COMMENT_CHARS]


def rating_buttons(text: Callable[[str], str]) -> tuple[Button, ...]:
    return tuple(Button(text(f"csat.score_{score}"), f"/csat {score}") for score in range(1, 6))


def _buttons(turn: Turn) -> tuple[Button, ...]:
    return rating_buttons(turn.t)


def _skip_button(turn: Turn) -> tuple[Button, ...]:
    return (Button(turn.t("csat.skip"), "/skip"),)


def ask_state(case: Case, now: datetime) -> dict[str, Any]:
    """The conversation state that makes the customer's next message the rating answer.

    The close happens in the console, outside any turn, so the form is entered by writing the
    state the form engine keeps (bot/dialogue/forms.py: name, values, asking, started_at).
    """
    return {"form": {"name": FORM_NAME, "values": {"case_id": case.id},
                     "asking": "rating", "started_at": now.isoformat()}}


async def save_rating(turn: Turn, *, case_id: int, score: int) -> bool:
    """Stores the rating on the case unless it was rated already; whether it was stored."""
    case = await store.get_case(turn.session, case_id=case_id)
    if case is None or case.csat_score is not None:
        return False
    case.csat_score = score
    case.csat_at = turn.now
    await store.add_event(turn.session, case=case, kind="csat", now=turn.now,
                          data={"score": score})
    return True


async def _rated(turn: Turn, values: dict[str, Any]) -> None:
    # Kept at once: a customer who rates and walks away has still rated.
    case_id = int(values["case_id"])
    if await save_rating(turn, case_id=case_id, score=int(values["rating"])):
        await start_form(turn, COMMENT_FORM, values={"case_id": case_id})
    else:
        turn.say(turn.t("csat.thanks"))


async def _commented(turn: Turn, values: dict[str, Any]) -> None:
    comment = str(values.get("comment") or "")
    case = await store.get_case(turn.session, case_id=int(values["case_id"]))
    if case is not None and comment:
        case.csat_comment = comment
        await store.add_event(turn.session, case=case, kind="csat_comment", now=turn.now,
                              body=comment)
    turn.say(turn.t("csat.thanks"))


async def _no_comment(turn: Turn, _values: dict[str, Any]) -> None:
    turn.say(turn.t("csat.thanks"))


FORM = Form(
    name=FORM_NAME,
    slots=(Slot("rating", "csat.ask", parse_rating, invalid="csat.invalid", buttons=_buttons),),
    on_complete=_rated,
    timeout=TIMEOUT,
)
COMMENT_FORM = Form(
    name=FORM_NAME + "_comment",
    slots=(Slot("comment", "csat.comment", parse_comment, buttons=_skip_button),),
    on_complete=_commented,
    on_cancel=_no_comment,
)
FORMS = (FORM, COMMENT_FORM)
