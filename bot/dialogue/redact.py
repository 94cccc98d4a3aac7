"""What of an inbound message may be kept in the transcript.

Phone numbers are masked wherever they appear; the answer to a personal-data question of a
form (a one-time code, a name, an address, a birthday) is masked by the kind its slot
declares; no digit of a one-time code is ever stored. The transcript is also encrypted at
rest (bot/core/storage/sealed.py): masking decides what staff see, encryption what a copy of the
database reveals.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.core.crypto import mask_address, mask_name
from bot.core.logmask import mask_phones

SECRET, PHONE, NAME, ADDRESS, DATE = "secret", "phone", "name", "address", "date"

_MASKS: dict[str, Callable[[str], str]] = {
    # Every digit goes ("验证码是 336621" → "验证码是 ******"); a question asked instead of
    # the code stays readable.
    SECRET: lambda text: re.sub(r"\d", "*", text),
    PHONE: lambda text: re.sub(r"\d(?=\d{4})", "*", mask_phones(text)),
    NAME: lambda text: mask_name(text.strip()) or "",
    ADDRESS: lambda text: mask_address(text.strip()) or "",
    DATE: lambda text: re.sub(r"\d", "*", text),
}
KINDS = frozenset(_MASKS)


def transcript_text(text: str, state: dict[str, Any]) -> str:
    """``text`` as the transcript keeps it, given the conversation's state before the turn
    (the form question it answers, if any)."""
    form = state.get("form")
    kind = form.get("personal") if isinstance(form, dict) else None
    if isinstance(kind, str) and kind in _MASKS and not text.startswith("/"):
        return _MASKS[kind](text)
    return mask_phones(text)
