"""Tests for nlu.entities.tier, nlu.entities.points and nlu.entities.numerals."""

from __future__ import annotations

import pytest

from nlu.entities.numerals import parse_cn_number, parse_number
from nlu.entities.points import extract_points
from nlu.entities.tier import extract_tiers
from nlu.normalise import align_normalise


def tiers(text: str) -> list[tuple[str | int, str]]:
    return [(e.value, text[e.start:e.end]) for e in extract_tiers(align_normalise(text))]


def points(text: str) -> list[tuple[str | int, str]]:
    return [(e.value, text[e.start:e.end]) for e in extract_points(align_normalise(text))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我是金卡会员吗", [("gold", "金卡会员")]),
        ("銀卡有什麼福利", [("silver", "銀卡")]),
        ("鑽石會員", [("diamond", "鑽石會員")]),
        ("我係咪金咭", [("gold", "金咭")]),
        ("还是普通会员", [("standard", "普通会员")]),
        ("am i GOLD or Silver", [("gold", "GOLD"), ("silver", "Silver")]),
        ("Diamond perks", [("diamond", "Diamond")]),
    ],
)
def test_tiers_become_codes(text: str, expected: list[tuple[str, str]]) -> None:
    assert tiers(text) == expected


@pytest.mark.parametrize("text", ["我说普通话", "golden week", "silverware"])
def test_tier_look_alikes(text: str) -> None:
    assert tiers(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("用500积分换", [(500, "500积分")]),
        ("1,000 points please", [(1000, "1,000 points")]),
        ("五百分够吗", [(500, "五百分")]),
        ("一千二百积分", [(1200, "一千二百积分")]),
        ("两万分", [(20000, "两万分")]),
        ("1.5万积分", [(15000, "1.5万积分")]),
        ("2k pts", [(2000, "2k pts")]),
        ("３００积分", [(300, "３００积分")]),
    ],
)
def test_points_amounts(text: str, expected: list[tuple[int, str]]) -> None:
    assert points(text) == expected


@pytest.mark.parametrize("text", ["十分满意", "等了5分钟", "3点20分", "2.5分", "百分之十"])
def test_not_points(text: str) -> None:
    assert points(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [("五百", 500), ("一千二", 1200), ("三百零五", 305), ("十五", 15), ("两万", 20000),
     ("一万五千", 15000), ("一千零五十", 1050), ("1,000", 1000), ("五五", None), ("abc", None)],
)
def test_numerals(text: str, value: int | None) -> None:
    assert parse_number(text) == value


def test_cn_number_rejects_empty() -> None:
    assert parse_cn_number("") is None
