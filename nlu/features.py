"""Sparse text features for the intent classifier: character n-grams plus Latin words."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from nlu.lexicon import Lexicon

# Bump when the way terms are produced changes: it is part of the model's cache key.
FEATURE_VERSION = 4

_LATIN_WORD = re.compile(r"[a-z0]+(?:'[a-z]+)?")


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """How texts become terms and how the linear model is fitted; part of the model's key."""

    char_ngram_min: int = 1
    char_ngram_max: int = 3
    latin_words: bool = True
    latin_word_bigrams: bool = True
    jieba_words: bool = False
    lexicon_weight: float = 2.0
    regularisation_c: float = 0.5
    min_count: int = 1
    calibration_folds: int = 5

    def to_dict(self) -> dict[str, Any]:
        return {"feature_version": FEATURE_VERSION, **asdict(self)}


def _jieba_words(text: str) -> list[str]:
    import jieba  # imported lazily: its dictionary costs ~0.5 s to load

    return [word for word in jieba.lcut(text) if len(word) > 1 and not word.isascii()]


def extract_terms(
    text: str, config: FeatureConfig, lexicon: Lexicon | None = None
) -> Counter[str]:
    """Terms of an already classifier-normalised text (see :func:`nlu.normalise.classifier_text`).

    Character n-grams carry Chinese, where words are not separated and typos change single
    characters; whole Latin words carry English, where n-grams of common letters say little.
    """
    terms: Counter[str] = Counter()
    padded = f" {text} "
    length = len(padded)
    for size in range(config.char_ngram_min, config.char_ngram_max + 1):
        for start in range(length - size + 1):
            gram = padded[start:start + size]
            if not gram.isspace():
                terms["c" + gram] += 1
    if config.latin_words:
        words = _LATIN_WORD.findall(text)
        terms.update("w" + word for word in words)
        if config.latin_word_bigrams:
            terms.update(f"b{left} {right}" for left, right in itertools.pairwise(words))
    if config.jieba_words:
        terms.update("j" + word for word in _jieba_words(text))
    if lexicon is not None:
        terms.update("L" + name for name in lexicon.matches(text))
    return terms


def weigh(terms: Counter[str], config: FeatureConfig) -> dict[str, float]:
    """Sublinear term frequency (a word said three times is not three times the evidence);
    lexicon hits weigh more, since one of them stands for a whole family of words."""
    return {
        term: (1.0 + math.log(count)) * (config.lexicon_weight if term[0] == "L" else 1.0)
        for term, count in terms.items()
    }
