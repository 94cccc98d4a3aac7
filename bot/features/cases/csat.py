"""Customer satisfaction after a close: a 1–5 rating, then an optional comment, on the case.

The questions themselves are a dialogue form (handlers/csat.py); this module holds what the
desk and the form share: reading an answer, the rating buttons, the state that opens the form
from outside a turn, and storing the answers on the case.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import words_pattern
from bot.core.messages import Button
from bot.core.storage.models_cases import Case
from bot.features.cases import store

FORM_NAME = "csat"
TIMEOUT = timedelta(hours=72)
MAX_COMMENT_CHARS = 2000


@lru_cache(maxsize=1)
def _rating() -> re.Pattern[str]:
    units = words_pattern("words.rating_unit")
    return re.compile(rf"^\s*(?:/csat\s*)?([1-5])\s*(?:{units}|/\s*5)?\s*[.!。！]?\s*$",
                      re.IGNORECASE)


@lru_cache(maxsize=1)
def _skip() -> re.Pattern[str]:
    return re.compile(rf"^\s*({words_pattern('words.skip')})[\s.!。！]*$", re.IGNORECASE)


def parse_rating(text: str) -> int | None:
    """``"5"``, ``"/csat 5"``, ``"4分"``, ``"⭐⭐⭐"`` → the rating; anything else → None."""
    stars = text.count("⭐")
    if stars and not text.replace("⭐", "").strip():
        return stars if 1 <= stars <= 5 else None
    match = _rating().match(text)
    return int(match.group(1)) if match else None


def parse_comment(text: str) -> str | None:
    if not text.strip():
        return None
    if text.startswith("/") and not _skip().match(text):
        return None  # a command or another question's button: answered, then asked again
    return "" if _skip().match(text) else text.strip()[:MAX_COMMENT_CHARS]


def rating_buttons(text: Callable[[str], str]) -> tuple[Button, ...]:
    return tuple(Button(text(f"csat.score_{score}"), f"/csat {score}") for score in range(1, 6))


def ask_state(case: Case, now: datetime) -> dict[str, Any]:
    """The conversation state that makes the customer's next message the rating answer.

    The close happens in the console, outside any turn, so the form is entered by writing the
    state the form engine keeps (bot/dialogue/forms.py: name, values, asking, started_at).
    """
    return {"form": {"name": FORM_NAME, "values": {"case_id": case.id},
                     "asking": "rating", "started_at": now.isoformat()}}


async def save_rating(session: AsyncSession, *, case_id: int, score: int, now: datetime) -> bool:
    """Stores the rating on the case unless it was rated already; whether it was stored."""
    case = await store.get_case(session, case_id=case_id)
    if case is None or case.csat_score is not None:
        return False
    case.csat_score = score
    case.csat_at = now
    await store.add_event(session, case=case, kind="csat", now=now, data={"score": score})
    return True


async def save_comment(session: AsyncSession, *, case_id: int, comment: str,
                       now: datetime) -> None:
    case = await store.get_case(session, case_id=case_id)
    if case is not None and comment:
        case.csat_comment = comment
        await store.add_event(session, case=case, kind="csat_comment", now=now, body=comment)
