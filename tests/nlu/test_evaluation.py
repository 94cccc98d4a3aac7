"""Tests for nlu.evaluation and nlu.language."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from nlu.errors import NluError
from nlu.evaluation import evaluate, example_language, format_evaluation, write_confusion_png
from nlu.language import detect_language
from nlu.loader import Example

GOLD = ["a", "a", "a", "b", "b", "c"]
PRED = ["a", "a", "b", "b", "c", "c"]


def test_scores_match_hand_computed_values() -> None:
    result = evaluate(GOLD, PRED)
    assert result.count == 6
    assert result.accuracy == pytest.approx(4 / 6)
    scores = {s.intent: s for s in result.per_intent}
    assert (scores["a"].precision, scores["a"].recall) == (1.0, pytest.approx(2 / 3))
    assert scores["b"].f1 == pytest.approx(0.5)
    assert scores["c"].precision == pytest.approx(0.5)
    assert scores["c"].recall == 1.0
    expected_macro = (0.8 + 0.5 + 2 / 3) / 3
    assert result.macro_f1 == pytest.approx(expected_macro)
    assert result.confusions == (("a", "b", 1), ("b", "c", 1))
    assert result.matrix == ((2, 1, 0), (0, 1, 1), (0, 0, 1))


def test_agrees_with_scikit_learn() -> None:
    from sklearn.metrics import accuracy_score, f1_score

    gold = ["x", "y", "z", "x", "y", "z", "x", "w"]
    pred = ["x", "z", "z", "y", "y", "x", "x", "x"]
    result = evaluate(gold, pred)
    assert result.accuracy == pytest.approx(accuracy_score(gold, pred))
    assert result.macro_f1 == pytest.approx(f1_score(gold, pred, average="macro"))


def test_per_language_breakdown() -> None:
    result = evaluate(GOLD, PRED, ["en", "en", "zh-Hans", "zh-Hans", "zh-Hant", "zh-Hant"])
    assert set(result.by_language) == {"en", "zh-Hans", "zh-Hant"}
    assert result.by_language["en"].accuracy == 1.0
    assert result.by_language["zh-Hans"].accuracy == 0.5
    text = format_evaluation(result)
    for needle in ("accuracy: 0.6667", "macro-F1:", "zh-Hant", "most confused", "a -> b: 1"):
        assert needle in text


def test_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="2 gold labels but 1 predictions"):
        evaluate(["a", "b"], ["a"])


@pytest.mark.parametrize(
    ("text", "language"),
    [("我的积分还有多少", "zh-Hans"), ("我的積分還有多少", "zh-Hant"), ("我嘅积分几多", "zh-Hant"),
     ("how many points", "en"), ("我的points", "zh-Hans"), ("😀", "en")],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_metadata_language_wins() -> None:
    example = Example("你好", "greet", metadata={"language": "zh-Hant"})
    assert example_language(example) == "zh-Hant"
    assert example_language(Example("你好", "greet")) == "zh-Hans"


def test_confusion_png(tmp_path: Path) -> None:
    result = evaluate(GOLD, PRED)
    target = tmp_path / "out" / "confusion.png"
    if importlib.util.find_spec("matplotlib") is None:
        with pytest.raises(NluError, match="needs matplotlib"):
            write_confusion_png(result, target)
    else:
        write_confusion_png(result, target)
        assert target.read_bytes().startswith(b"\x89PNG")
