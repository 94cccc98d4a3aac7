"""Tests for nlu.entities.phone: E.164 values and original offsets."""

from __future__ import annotations

import pytest

from nlu.entities.phone import extract_phones
from nlu.normalise import align_normalise


def phones(text: str) -> list[tuple[str | int, str]]:
    return [(e.value, text[e.start:e.end]) for e in extract_phones(align_normalise(text))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("绑定13800000001", [("+8613800000001", "13800000001")]),
        ("手机 139-1234-5678 谢谢", [("+8613912345678", "139-1234-5678")]),
        ("+86 186 1234 5678", [("+8618612345678", "+86 186 1234 5678")]),
        ("我嘅電話係+852 9123 4567", [("+85291234567", "+852 9123 4567")]),
        ("+886 912 345 678", [("+886912345678", "+886 912 345 678")]),
        ("１３８０００００００１", [("+8613800000001", "１３８０００００００１")]),
        ("15912345678和18612345678", [("+8615912345678", "15912345678"),
                                      ("+8618612345678", "18612345678")]),
    ],
)
def test_finds_numbers_as_e164(text: str, expected: list[tuple[str, str]]) -> None:
    assert phones(text) == expected


@pytest.mark.parametrize("text", ["订单20261123153000123", "我有500积分", "12345", "2026-05-03",
                                  "+1 212 555 0100"])
def test_ignores_what_is_not_a_phone_here(text: str) -> None:
    assert phones(text) == []
