from datetime import date
from decimal import Decimal

import pytest

from bot.features.loyalty.tiers import Activity, evaluate_tier, months_between, upgrade_gap
from tests.conftest import make_settings

RULES = make_settings().membership.tiers  # silver 3000/12 any; gold 10000/30 6m; diamond all


def act(spend: str, visits: int, tenure: int = 24) -> Activity:
    return Activity(Decimal(spend), visits, tenure)


@pytest.mark.parametrize(
    ("activity", "tier"),
    [
        (act("0", 0), "standard"),
        (act("2999.99", 11), "standard"),
        (act("3000", 0), "silver"),  # exactly at the spend threshold
        (act("0", 12), "silver"),  # exactly at the visits threshold ("any")
        (act("10000", 0), "gold"),
        (act("10000", 0, tenure=5), "silver"),  # gold needs 6 months of membership
        (act("30000", 59), "gold"),  # diamond needs spend AND visits
        (act("30000", 60), "diamond"),
        (act("29999.99", 200), "gold"),
    ],
)
def test_evaluate_tier(activity: Activity, tier: str) -> None:
    assert evaluate_tier(RULES, activity) == tier


def test_upgrade_gap_to_the_next_tier() -> None:
    gap = upgrade_gap(RULES, "gold", act("12000.50", 40))
    assert gap is not None
    assert gap.target == "diamond"
    assert gap.spend == Decimal("17999.50")
    assert gap.visits == 20
    assert gap.qualify == "all"


def test_no_gap_at_the_top() -> None:
    assert upgrade_gap(RULES, "diamond", act("99999", 99)) is None


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 1, 31), date(2026, 2, 28), 1),
        (date(2026, 1, 15), date(2026, 2, 14), 0),
        (date(2026, 1, 15), date(2026, 2, 15), 1),
        (date(2025, 11, 23), date(2026, 11, 23), 12),
        (date(2026, 12, 1), date(2026, 11, 1), 0),
    ],
)
def test_months_between(start: date, end: date, months: int) -> None:
    assert months_between(start, end) == months
