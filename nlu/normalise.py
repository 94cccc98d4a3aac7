"""Text normalisation shared by training, classification and entity extraction."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

# Categories that carry no meaning for understanding: controls, format marks (RTL/LTR marks,
# zero-width joiners, BOM), unpaired surrogates from broken decoders, private use, unassigned.
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"[0-9]")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One character folded to one character: width, compatibility forms and case."""
    category = unicodedata.category(char)
    if category in _DROP_CATEGORIES:
        return " "
    if category.startswith("Z"):
        return " "
    folded = unicodedata.normalize("NFKC", char)
    if len(folded) != 1:
        folded = char
    lowered = folded.lower()
    return lowered if len(lowered) == 1 else folded


def align_normalise(text: str) -> str:
    """Fold width, case and script without changing the length of ``text``.

    Entity offsets found in the result are offsets in ``text`` too, which is what Rasa-style
    entities need. Traditional characters become simplified ones (OpenCC ``t2s``).
    """
    folded = "".join(_fold_char(char) for char in text)
    converted: str = _t2s().convert(folded)
    if len(converted) == len(folded):
        return converted
    # A phrase conversion changed the length; converting one character at a time keeps the
    # alignment at the price of phrase context.
    chars: list[str] = []
    for char in folded:
        one: str = _t2s().convert(char)
        chars.append(one if len(one) == 1 else char)
    return "".join(chars)


def classifier_text(text: str, *, max_chars: int) -> str:
    """The form the intent classifier sees: aligned-normalised, digits masked, spaces collapsed.

    Digits become ``0`` so that a phone or order number reads as "a number of this length"
    rather than as a hundred unrelated n-grams.
    """
    return classifier_form(align_normalise(text[:max_chars]))


def classifier_form(normalised: str) -> str:
    """:func:`classifier_text` for a text already passed through :func:`align_normalise`."""
    return _SPACES.sub(" ", _DIGITS.sub("0", normalised)).strip()
