"""The FAQ's tokenizer knows only the dictionary words its entries use, and ranks as jieba
with its whole dictionary does (bot/features/knowledge/segmenter.py)."""

from __future__ import annotations

from pathlib import Path

import jieba
import pytest

from bot.features.knowledge.base import KnowledgeBase, normalised, tokens
from bot.features.knowledge.segmenter import corpus_tokenizer

ROOT = Path(__file__).resolve().parents[3]
QUESTIONS = ("退货政策是什么", "請問退貨要帶什麼", "What is your return policy?", "会员卡丢了怎么办",
             "发票怎么开", "积分可以转让吗", "可以开发票吗", "会员生日有什么优惠", "停车场在哪里")


@pytest.fixture(scope="module")
def base() -> KnowledgeBase:
    return KnowledgeBase.from_yaml((ROOT / "knowledge.yml").read_text(encoding="utf-8"))


def test_entries_are_cut_as_with_the_whole_dictionary(base: KnowledgeBase) -> None:
    tokenizer = corpus_tokenizer(normalised(e.text()) for e in base.entries)
    for entry in base.entries:
        assert tokens(entry.text(), tokenizer) == tokens(entry.text()), entry.id


@pytest.mark.parametrize("question", QUESTIONS)
def test_questions_find_the_same_entries(base: KnowledgeBase, question: str) -> None:
    full = KnowledgeBase(base.entries)
    full._tokenizer = jieba.dt  # the whole dictionary, as before
    assert [h.entry.id for h in base.search(question)] == \
        [h.entry.id for h in full.search(question)]


def test_the_dictionary_kept_is_small(base: KnowledgeBase) -> None:
    tokenizer = corpus_tokenizer(normalised(e.text()) for e in base.entries)
    assert 0 < len(tokenizer.FREQ) < 5_000  # jieba's own holds about 500,000
    assert tokenizer.total > 10_000_000  # the whole dictionary's total: the same weights
