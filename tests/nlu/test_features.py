"""Tests for nlu.features and nlu.lexicon: the terms the classifier sees."""

from __future__ import annotations

from nlu.features import FeatureConfig, extract_terms, weigh
from nlu.lexicon import Lexicon
from nlu.normalise import classifier_text

LEXICON = Lexicon({"kw_push": ["推送", "促销信息", "offers"], "kw_points": ["积分", "points"]})


def terms(text: str) -> set[str]:
    return set(extract_terms(classifier_text(text, max_chars=1000), FeatureConfig(), LEXICON))


def test_character_ngrams_words_and_pairs() -> None:
    found = terms("我的Points")
    assert {"c我", "c我的", "c的p", "wpoints", "Lkw_points"} <= found
    assert "bhow many" in terms("How many points")


def test_traditional_and_full_width_give_the_same_terms() -> None:
    assert terms("我的積分") == terms("我的积分")
    assert terms("ＰＯＩＮＴＳ") == terms("points")


def test_negated_lexicon_hits_are_their_own_feature() -> None:
    assert "Lkw_push" in terms("给我推送")
    assert "L!kw_push" in terms("我不想收到促销信息")
    assert "L!kw_push" in terms("别再推送了")
    assert "L!kw_push" in terms("please don't send me offers")
    assert "Lkw_push" in terms("send me offers")


def test_latin_lexicon_entries_match_whole_words_only() -> None:
    assert not {"Lkw_points", "L!kw_points"} & terms("disappointsment")


def test_lexicon_hits_weigh_more() -> None:
    config = FeatureConfig(lexicon_weight=2.0)
    weights = weigh(extract_terms("积分", config, LEXICON), config)
    assert weights["Lkw_points"] == 2.0
    assert weights["c积"] == 1.0
