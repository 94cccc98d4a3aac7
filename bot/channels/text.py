"""Cutting a long reply into parts a platform accepts, at the most natural boundary."""

from __future__ import annotations

from typing import Literal

# Where a cut reads best, in order of preference; Chinese sentences end without a space.
_SENTENCE_ENDS = ("。", "！", "？", "；", "…")


def _size(text: str, measure: Literal["chars", "bytes"]) -> int:
    return len(text) if measure == "chars" else len(text.encode())


def _window(text: str, limit: int, measure: Literal["chars", "bytes"]) -> str:
    """The longest prefix of ``text`` within ``limit`` (never half a UTF-8 character)."""
    if measure == "chars":
        return text[:limit]
    return text.encode()[:limit].decode(errors="ignore")


def split_text(text: str, limit: int, *, measure: Literal["chars", "bytes"] = "chars"
               ) -> list[str]:
    """Cuts ``text`` into parts of at most ``limit`` characters (or UTF-8 bytes) at a
    paragraph, line, sentence or space boundary, else mid-word; never an empty part.

    Whitespace at a cut is dropped (the platform shows each part as its own message);
    nothing else is lost.
    """
    parts: list[str] = []
    rest = text
    while _size(rest, measure) > limit:
        window = _window(rest, limit, measure) or rest[0]
        half = len(window) // 2
        cut = window.rfind("\n")
        if cut < half:
            cut = max(window.rfind(mark) + len(mark) if window.rfind(mark) >= 0 else -1
                      for mark in _SENTENCE_ENDS)
        if cut < half:
            cut = window.rfind(" ")
        if cut < half or cut <= 0:
            cut = len(window)
        part = rest[:cut].rstrip()
        if part:
            parts.append(part)
        rest = rest[cut:].lstrip("\n ")
    if rest or not parts:
        parts.append(rest)
    return [part for part in parts if part] or [""]
