"""Tests for nlu.entities.dates: Chinese and English dates resolved against an injected today."""

from __future__ import annotations

from datetime import date

import pytest

from nlu.entities.dates import extract_dates
from nlu.normalise import align_normalise
from tests.nlu.conftest import TODAY  # Monday 2026-11-23


def dates(text: str, today: date = TODAY) -> list[tuple[str | int, str]]:
    return [(e.value, text[e.start:e.end]) for e in extract_dates(align_normalise(text),
                                                                   today=today)]


@pytest.mark.parametrize(
    ("text", "value", "span"),
    [
        ("今天开门吗", "2026-11-23", "今天"),
        ("明天呢", "2026-11-24", "明天"),
        ("后天", "2026-11-25", "后天"),
        ("後天", "2026-11-25", "後天"),
        ("聽日開唔開", "2026-11-24", "聽日"),
        ("昨天买的", "2026-11-22", "昨天"),
        ("下周五几点开门", "2026-12-04", "下周五"),
        ("下週五", "2026-12-04", "下週五"),
        ("这周五", "2026-11-27", "这周五"),
        ("周五", "2026-11-27", "周五"),
        ("星期天", "2026-11-29", "星期天"),
        ("下个礼拜三", "2026-12-02", "下个礼拜三"),
        ("上周五买的", "2026-11-20", "上周五"),
        ("5月3日", "2027-05-03", "5月3日"),
        ("五月三号", "2027-05-03", "五月三号"),
        ("11月20日那笔", "2026-11-20", "11月20日"),
        ("2026-05-03", "2026-05-03", "2026-05-03"),
        ("2026年5月3日", "2026-05-03", "2026年5月3日"),
        ("２０２６／５／３", "2026-05-03", "２０２６／５／３"),
        ("12/25 开门吗", "2026-12-25", "12/25"),
        ("5/3", "2027-05-03", "5/3"),
        ("3天后", "2026-11-26", "3天后"),
        ("我3号买的", "2026-11-03", "3号"),
        ("tomorrow", "2026-11-24", "tomorrow"),
        ("Open TODAY?", "2026-11-23", "TODAY"),
        ("next Friday", "2026-12-04", "next Friday"),
        ("this friday", "2026-11-27", "this friday"),
        ("on Friday", "2026-11-27", "Friday"),
        ("May 3", "2027-05-03", "May 3"),
        ("may 3rd, 2026", "2026-05-03", "may 3rd, 2026"),
        ("the 3rd of May", "2027-05-03", "3rd of May"),
        ("in 10 days", "2026-12-03", "in 10 days"),
    ],
)
def test_resolves_to_iso_dates(text: str, value: str, span: str) -> None:
    assert dates(text) == [(value, span)]


@pytest.mark.parametrize("text", ["1号线怎么走", "2月30日", "may I ask", "周末", "13/45",
                                  "3号店", "mondays are slow"])
def test_leaves_non_dates_alone(text: str) -> None:
    assert dates(text) == []


def test_friday_on_a_friday_is_today_and_next_friday_a_week_later() -> None:
    friday = date(2026, 11, 27)
    assert dates("周五", friday) == [("2026-11-27", "周五")]
    assert dates("next friday", friday) == [("2026-12-04", "next friday")]


def test_month_day_takes_the_nearest_year() -> None:
    assert dates("1月5日", date(2026, 12, 20)) == [("2027-01-05", "1月5日")]
    assert dates("12月20日", date(2027, 1, 5)) == [("2026-12-20", "12月20日")]
