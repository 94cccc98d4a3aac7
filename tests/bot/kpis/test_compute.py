"""Every KPI on fixture rows, against answers worked out by hand (tests/bot/kpis/fixture.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.features.kpis.catalogue import BY_NAME, CATALOGUE, meets
from bot.features.kpis.compute import compute, median, p90
from bot.features.kpis.rows import Filters, KpiRows, Period
from tests.bot.kpis.fixture import AS_OF, EXPECTED, ROWS

Q4 = Period(datetime(2026, 9, 30, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC),
            "2026Q4")
TWO_HOURS = timedelta(hours=2)


def kpis(filters: Filters = Filters(), rows: KpiRows = ROWS):  # type: ignore[no-untyped-def]
    return compute(rows, period=Q4, as_of=AS_OF, complaint_target=TWO_HOURS, filters=filters)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_kpi_matches_the_hand_computed_answer(name: str) -> None:
    assert kpis().values[name] == pytest.approx(EXPECTED[name])


def test_every_catalogued_kpi_is_computed_and_tested() -> None:
    assert set(kpis().values) == {k.name for k in CATALOGUE} == set(EXPECTED)


def test_breakdowns() -> None:
    result = kpis()
    assert result.complaints_by_category == [("product", 3), ("staff", 1)]
    assert result.complaints_by_store == [("sh-jingan", 3), ("bj-sanlitun", 1)]
    assert result.handoff_reasons == [("asked", 2), ("misunderstood", 1), ("urgent", 1)]
    assert result.intents == [("points_balance", 10), ("out_of_scope", 5), ("complaint", 4),
                              ("member_tier", 2)]
    assert result.messages_by_channel == [("web", 17, 20), ("wechat", 4, 5), ("telegram", 1, 0)]


def test_per_channel() -> None:
    web = kpis(Filters(channel="web")).values
    # feedback on the web 1,3,4,6: handled 1,3 of decided 1,3,4
    assert web["handled_within_48h"] == pytest.approx(2 / 3)
    # web conversations c1,c3,c5,c7,c8,c10; with a case: c1,c3,c5,c7
    assert web["containment"] == pytest.approx(2 / 6)
    assert web["fallback_rate"] == pytest.approx(3 / 17)
    assert web["messages_in"] == 17
    assert web["handoffs"] == 3
    assert kpis(Filters(channel="telegram")).values["fallback_rate"] is None  # no intents


def test_per_store_and_category() -> None:
    jingan = kpis(Filters(store="sh-jingan")).values
    # cases 1, 2, 6: handled 1 of decided 1, 2; ratings 5 and 2
    assert jingan["handled_within_48h"] == pytest.approx(1 / 2)
    assert jingan["csat_satisfied"] == pytest.approx(1 / 2)
    assert jingan["csat_average"] == pytest.approx(3.5)
    assert jingan["complaints"] == 3
    product = kpis(Filters(category="product"))
    assert product.values["complaints"] == 3
    assert product.complaints_by_store == [("sh-jingan", 3)]
    service = kpis(Filters(category="service")).values
    assert service["complaints"] == 0
    assert service["complaints_answered_in_target"] is None
    assert service["handled_within_48h"] == 1.0


def test_empty_period_gives_no_figures_rather_than_zeros() -> None:
    empty = kpis(rows=KpiRows((), (), (), ())).values
    assert empty["handled_within_48h"] is None
    assert empty["csat_satisfied"] is None
    assert empty["first_response_p90_minutes"] is None
    assert empty["containment"] is None
    assert empty["complaints"] == 0


def test_percentiles() -> None:
    assert median([3.0]) == 3.0
    assert median([1.0, 2.0, 10.0]) == 2.0
    assert p90([float(n) for n in range(1, 11)]) == 9.0  # ceil(9.0) = 9th of 10
    assert p90([float(n) for n in range(1, 12)]) == 10.0  # ceil(9.9) = 10th of 11
    assert p90([]) is None


def test_targets_know_which_way_is_better() -> None:
    assert meets(BY_NAME["handled_within_48h"], 0.9, 0.9) is True
    assert meets(BY_NAME["handled_within_48h"], 0.89, 0.9) is False
    assert meets(BY_NAME["fallback_rate"], 0.12, 0.10) is False
    assert meets(BY_NAME["fallback_rate"], 0.05, 0.10) is True
    assert meets(BY_NAME["containment"], None, 0.7) is None
    assert meets(BY_NAME["containment"], 0.5, None) is None
