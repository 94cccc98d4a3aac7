"""Keyword lexicons (Rasa lookup tables) turned into classifier features."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from nlu.normalise import classifier_text

_LOOKUP_MAX_CHARS = 200
# A negation just before a lexicon word flips its meaning ("不想收到推送", "don't send offers"),
# so a negated hit is its own feature.
_NEGATION = re.compile(
    r"(?:(?:不|别|没|唔|勿|莫|拒)[^\x00-\x7f]{0,3}"
    r"|(?<![a-z])(?:don't|dont|do not|no more|not|never|stop)(?: [a-z']+){0,2} )$"
)
_NEGATION_WINDOW = 24


def _pattern(entries: Iterable[str]) -> re.Pattern[str] | None:
    parts = []
    keys = {classifier_text(entry, max_chars=_LOOKUP_MAX_CHARS) for entry in entries}
    for key in sorted((k for k in keys if k), key=len, reverse=True):
        escaped = re.escape(key).replace(r"\ ", " ")
        # Latin entries must be whole words: "ai" must not fire inside "wait".
        if key[0].isascii() and key[0].isalnum():
            escaped = r"(?<![a-z0-9])" + escaped
        if key[-1].isascii() and key[-1].isalnum():
            escaped += r"(?![a-z0-9])"
        parts.append(escaped)
    return re.compile("|".join(parts)) if parts else None


class Lexicon:
    """Named word lists; :meth:`matches` says which lists have a word in a text."""

    __slots__ = ("_patterns", "tables")

    def __init__(self, tables: Mapping[str, Iterable[str]]) -> None:
        self.tables = {name: tuple(entries) for name, entries in sorted(tables.items())}
        self._patterns = [(name, pattern) for name, entries in self.tables.items()
                          if (pattern := _pattern(entries)) is not None]

    def matches(self, text: str) -> list[str]:
        """Names of the lists that occur in a classifier-normalised text; ``!name`` when the
        word found is negated."""
        found = []
        for name, pattern in self._patterns:
            for match in pattern.finditer(text):
                before = text[max(0, match.start() - _NEGATION_WINDOW):match.start()]
                found.append("!" + name if _NEGATION.search(before) else name)
        return found
