"""Quarters and date ranges are read in the retailer's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.features.kpis import periods

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_quarter_starts_and_ends_at_midnight_in_shanghai() -> None:
    q4 = periods.quarter("2026Q4", SHANGHAI)
    assert (q4.start, q4.end) == (datetime(2026, 9, 30, 16, tzinfo=UTC),
                                  datetime(2026, 12, 31, 16, tzinfo=UTC))
    assert periods.quarter(" 2026-q1 ", SHANGHAI).label == "2026Q1"


def test_previous_quarter_crosses_the_year() -> None:
    assert periods.previous(periods.quarter("2027Q1", SHANGHAI), SHANGHAI).label == "2026Q4"
    assert periods.previous(periods.quarter("2026Q3", SHANGHAI), SHANGHAI).label == "2026Q2"


def test_a_range_includes_its_last_day_and_compares_with_as_many_days_before() -> None:
    october = periods.date_range(date(2026, 10, 1), date(2026, 10, 31), SHANGHAI)
    assert october.end == datetime(2026, 10, 31, 16, tzinfo=UTC)
    before = periods.previous(october, SHANGHAI)
    assert before.label == "2026-08-31–2026-09-30"


def test_quarter_of_a_moment_and_weeks() -> None:
    # 2026-09-30 17:00 UTC is already 1 October in Shanghai
    assert periods.quarter_of(datetime(2026, 9, 30, 17, tzinfo=UTC), SHANGHAI).label == "2026Q4"
    weeks = periods.weeks(periods.quarter("2026Q4", SHANGHAI), SHANGHAI)
    assert len(weeks) == 14  # 92 days: 13 weeks and one of a day
    assert weeks[0].start == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert weeks[-1].end == datetime(2026, 12, 31, 16, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026Q5", "Q4 2026", "2026", ""])
def test_unknown_quarters_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="2026Q4"):
        periods.quarter(text, SHANGHAI)


def test_a_backwards_range_is_refused() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        periods.date_range(date(2026, 10, 2), date(2026, 10, 1), SHANGHAI)
