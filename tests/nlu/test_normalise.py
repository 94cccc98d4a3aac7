"""Tests for nlu.normalise: aligned folding keeps offsets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nlu.normalise import align_normalise, classifier_text


def test_folds_width_script_case_and_marks() -> None:
    assert align_normalise("ＡＢＣ１２３！") == "abc123!"
    assert align_normalise("我嘅積分幾多") == "我嘅积分几多"
    assert align_normalise("\u200fHi\u0000") == " hi "


def test_classifier_text_masks_digits_and_spaces() -> None:
    assert classifier_text("绑定 １３８  0000 0001", max_chars=100) == "绑定 000 0000 0000"
    assert classifier_text("abcdef", max_chars=3) == "abc"


@given(st.text(max_size=200))
def test_alignment_keeps_length(text: str) -> None:
    assert len(align_normalise(text)) == len(text)
