"""Case priorities: complaints high, suggestions low, chats normal; danger words → urgent."""

from __future__ import annotations

from collections.abc import Iterable

from bot.features.cases.settings import Priority
from bot.features.cases.store import CHAT, COMPLAINT


def is_urgent(text: str, words: Iterable[str]) -> bool:
    """Whether ``text`` mentions one of ``words`` (case-insensitive substrings, so "injur"
    catches injured and injury)."""
    folded = text.casefold()
    return any(word.casefold() in folded for word in words if word.strip())


def priority_for(kind: str, text: str, urgent_words: Iterable[str]) -> Priority:
    # Safety first: whatever the kind, an allergy or an injury is urgent.
    if is_urgent(text, urgent_words):
        return "urgent"
    if kind == COMPLAINT:
        return "high"
    if kind == CHAT:
        return "normal"
    return "low"
