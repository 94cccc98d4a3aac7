"""Tests for nlu.entities.ids: order and case id formats."""

from __future__ import annotations

import pytest

from nlu.entities.ids import extract_case_ids, extract_order_ids
from nlu.normalise import align_normalise


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("我的投诉C-20261123-0001", "C-20261123-0001"),
        ("c20261123-0001 进度", "C-20261123-0001"),
        ("case c-202611230001", "C-20261123-0001"),
        ("工单KF20261120", "KF20261120"),
        ("kf-123456", "KF123456"),
    ],
)
def test_case_ids(text: str, value: str) -> None:
    (found,) = extract_case_ids(align_normalise(text))
    assert found.value == value
    assert text[found.start:found.end].upper().replace("-", "") == value.replace("-", "")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("订单SO2026111800123到哪了", "SO2026111800123"),
        ("order so-2026111800123", "SO2026111800123"),
        ("单号20261120153000123", "20261120153000123"),
    ],
)
def test_order_ids(text: str, value: str) -> None:
    (found,) = extract_order_ids(align_normalise(text))
    assert found.value == value


@pytest.mark.parametrize("text", ["13800000001", "KF12", "C-2026-0001", "SO123", "ABC20261123"])
def test_near_misses_are_not_ids(text: str) -> None:
    normalised = align_normalise(text)
    assert extract_case_ids(normalised) == []
    assert extract_order_ids(normalised) == []
