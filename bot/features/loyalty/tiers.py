"""Which tier a member's rolling spend, visits and tenure reach, and the gap to the next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from bot.settings import TierRule

TIER_ORDER = ("standard", "silver", "gold", "diamond")


@dataclass(frozen=True, slots=True)
class Activity:
    """A member's record over the qualification window."""

    spend: Decimal
    visits: int
    tenure_months: int


@dataclass(frozen=True, slots=True)
class UpgradeGap:
    """What is missing to reach ``target``; zero parts are already met."""

    target: str
    spend: Decimal
    visits: int
    tenure_months: int
    qualify: str


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (a member since 31 Jan has 1 month on 28 Feb)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day and not _is_month_end(end):
        months -= 1
    return max(months, 0)


def _is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).month != day.month


def qualifies(rule: TierRule, activity: Activity) -> bool:
    if activity.tenure_months < rule.min_tenure_months:
        return False
    spend_ok = activity.spend >= rule.min_spend
    visits_ok = activity.visits >= rule.min_visits
    return (spend_ok or visits_ok) if rule.qualify == "any" else (spend_ok and visits_ok)


def evaluate_tier(rules: list[TierRule], activity: Activity) -> str:
    """The highest tier whose rule the activity meets (standard always does)."""
    reached = rules[0].code
    for rule in rules[1:]:
        if qualifies(rule, activity):
            reached = rule.code
    return reached


def upgrade_gap(rules: list[TierRule], current: str, activity: Activity) -> UpgradeGap | None:
    """The gap to the tier above ``current``; ``None`` at the top."""
    codes: list[str] = [rule.code for rule in rules]
    index = codes.index(current)
    if index + 1 >= len(rules):
        return None
    target = rules[index + 1]
    return UpgradeGap(
        target=target.code,
        spend=max(target.min_spend - activity.spend, Decimal(0)),
        visits=max(target.min_visits - activity.visits, 0),
        tenure_months=max(target.min_tenure_months - activity.tenure_months, 0),
        qualify=target.qualify,
    )
