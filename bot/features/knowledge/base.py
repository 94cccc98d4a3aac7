"""The FAQ knowledge base: YAML entries operators edit, retrieved by BM25 over jieba tokens."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rank_bm25 import BM25Okapi

from bot.core.errors import ConfigError
from bot.core.i18n import to_simplified, to_traditional_many
from bot.features.knowledge.segmenter import Tokenizer, corpus_tokenizer, jieba

log = logging.getLogger(__name__)

# Words that say nothing about which entry is meant (questions, pronouns, particles).
_STOP_WORDS = """
的 了 吗 呢 吧 啊 呀 么 我 你 您 他 她 们 是 在 有 和 与 或 要 想 能 会 可以 怎么 怎样 如何 什么
请问 一下 这个 那个 哪里 多少 几 就 都 也 还 给 被 把 对 到 为 个 些 好 嗯 哦 请 问
a an the is are am do does did i you we my your our me to of for in on at and or can
could how what when where which who why will would should please with it be this that
tell about get know want need there here any some just
"""
_STOP = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"[\w']+")
IDF_FLOOR = 0.25


def normalised(text: str) -> str:
    return to_simplified(text).lower()


def tokens(text: str, tokenizer: Tokenizer | None = None) -> list[str]:
    """Search terms of ``text``: jieba words (simplified script), English words lower-cased.
    ``tokenizer`` defaults to jieba's own (its whole dictionary)."""
    words = (tokenizer or jieba.dt).lcut_for_search(normalised(text))
    return [w for w in (w.strip() for w in words)
            if w and _WORD.fullmatch(w) and w not in _STOP]


@dataclass(frozen=True, slots=True)
class Entry:
    """One question operators answer, in up to three languages."""

    id: str
    title: dict[str, str]
    answer: dict[str, str]
    intents: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    def text(self) -> str:
        # Titles and keywords only: answers mention too much in passing ("just tell me")
        # to say what an entry is about.
        return " ".join([*self.title.values(), *self.keywords])


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    score: float


def _entry(raw: Any, where: str) -> Entry:
    if not isinstance(raw, dict) or not raw.get("id") or not raw.get("answer"):
        raise ConfigError(f"Knowledge entry {where} needs at least 'id' and 'answer'")
    title, answer = raw.get("title") or {}, raw["answer"]
    if not isinstance(title, dict) or not isinstance(answer, dict):
        raise ConfigError(f"Knowledge entry {raw['id']!r}: 'title' and 'answer' map a language "
                          "(zh-Hans, zh-Hant, en) to text")
    keywords = raw.get("keywords") or []
    return Entry(id=str(raw["id"]), title={str(k): str(v) for k, v in title.items()},
                 answer={str(k): str(v).strip() for k, v in answer.items()},
                 intents=tuple(str(i) for i in raw.get("intents") or ()),
                 keywords=tuple(str(k) for k in keywords))


class KnowledgeBase:
    """Entries and their BM25 index; :meth:`search` ranks them for a question."""

    __slots__ = ("_index", "_tokenizer", "entries")

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        # Only the dictionary words the entries use (bot/features/knowledge/segmenter.py).
        self._tokenizer = (corpus_tokenizer(normalised(e.text()) for e in entries)
                           if entries else None)
        corpus = [tokens(e.text(), self._tokenizer) or ["-"] for e in entries]
        self._index = BM25Okapi(corpus) if entries else None
        if self._index is not None:
            # Okapi's idf turns negative for terms in over half the entries (and all of a
            # one-entry base): keep such terms worth a little instead of nothing.
            for term, weight in self._index.idf.items():
                self._index.idf[term] = max(weight, IDF_FLOOR)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "knowledge file") -> KnowledgeBase:
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{source} is not valid YAML: {exc}") from exc
        raw = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(raw, list):
            raise ConfigError(f"{source} must hold a list under 'entries'")
        entries = [_entry(item, f"#{n} in {source}") for n, item in enumerate(raw, start=1)]
        seen: set[str] = set()
        for entry in entries:
            if entry.id in seen:
                raise ConfigError(f"Knowledge entry id {entry.id!r} appears twice in {source}")
            seen.add(entry.id)
        return cls(entries)

    def for_intent(self, intent: str) -> Entry | None:
        return next((e for e in self.entries if intent in e.intents), None)

    def search(self, question: str, *, limit: int = 3) -> list[Hit]:
        """Entries sharing terms with ``question``, best first (score > 0 only)."""
        if self._index is None:
            return []
        terms = tokens(question, self._tokenizer)
        if not terms:
            return []
        scores = self._index.get_scores(terms)
        ranked = sorted(range(len(self.entries)), key=lambda i: -float(scores[i]))
        return [Hit(self.entries[i], float(scores[i])) for i in ranked[:limit]
                if float(scores[i]) > 0]


_cache: dict[Path, tuple[float, KnowledgeBase]] = {}


def load_knowledge(path: Path) -> KnowledgeBase:
    """The knowledge base in ``path``, read again whenever the file changes (no restart).

    Raises:
        ConfigError: the file is not valid (the previous version is kept while serving).
    """
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        log.warning("knowledge file %s does not exist; FAQ answers are unavailable", path)
        return KnowledgeBase([])
    cached = _cache.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        base = KnowledgeBase.from_yaml(path.read_text(encoding="utf-8"), source=str(path))
    except ConfigError:
        if cached is not None:
            log.exception("knowledge file %s is invalid; still answering from the last "
                          "valid version", path)
            return cached[1]
        raise
    _warm_traditional(base)
    _cache[path] = (mtime, base)
    return base


def _warm_traditional(base: KnowledgeBase) -> None:
    """Converts the entries a zh-Hant customer gets from their zh-Hans text, all at once as
    the file loads: each conversion batch is a child process's work (bot/core/i18n.py), so
    one for the file instead of one per entry inside a customer's turn."""
    to_traditional_many([texts["zh-Hans"] for entry in base.entries
                         for texts in (entry.title, entry.answer)
                         if "zh-Hant" not in texts and texts.get("zh-Hans")])
