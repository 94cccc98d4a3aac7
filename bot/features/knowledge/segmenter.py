"""jieba word segmentation with only the dictionary words a corpus contains.

jieba's full dictionary (350,000 words) costs about 60 MB of memory once loaded, for a
knowledge base whose entries use a few thousand of them. BM25 scores only terms that occur in
the entries, so a tokenizer that knows exactly the dictionary words found in the entries cuts
them the same way and cuts questions into the terms that can score; words it does not know
fall apart into characters (or jieba's HMM joins them), which match nothing either way.
Frequencies keep the full dictionary's total, so the words it keeps weigh as before.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TypeAlias

# jieba has no type hints.
Tokenizer: TypeAlias = Any


def _import_jieba() -> Any:
    """jieba without pkg_resources (5 MB, deprecated), which it imports only to find its own
    dictionary file and does without (a plain path) when that import fails."""
    if "pkg_resources" in sys.modules:
        import jieba as module

        return module
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # import → ImportError
    try:
        import jieba as module
    finally:
        del sys.modules["pkg_resources"]
    return module


jieba = _import_jieba()
# jieba's dictionary has no longer entries worth keeping for FAQ questions.
MAX_WORD = 12


def corpus_tokenizer(texts: Iterable[str]) -> Tokenizer:
    """A jieba tokenizer whose dictionary holds the words of ``texts`` (already normalised:
    simplified script, lower case)."""
    pieces: set[str] = set()
    for text in texts:
        for start in range(len(text)):
            for end in range(start + 1, min(len(text), start + MAX_WORD) + 1):
                pieces.add(text[start:end])
    frequencies: dict[str, int] = {}
    tokenizer = jieba.Tokenizer()
    total = 0
    # Read line by line: the whole file never sits in memory.
    with tokenizer.get_dict_file() as dictionary:
        for line in dictionary:
            word, count = line.decode("utf-8").split(" ", 2)[:2]
            frequency = int(count)
            total += frequency
            if word in pieces:
                frequencies[word] = frequency
    prefixes: dict[str, int] = dict(frequencies)
    for word in frequencies:
        for end in range(1, len(word)):
            prefixes.setdefault(word[:end], 0)
    tokenizer.FREQ, tokenizer.total = prefixes, total
    tokenizer.initialized = True
    return tokenizer
