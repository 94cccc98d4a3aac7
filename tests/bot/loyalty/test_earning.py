"""The earn and refund rules, with properties checked over generated purchases and ledgers."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.features.loyalty.earning import (
    EarnRule,
    earned_points,
    in_birthday_month,
    reversed_points,
    split_reversal,
)
from bot.features.loyalty.points import ADJUST, EARN, REDEEM, LedgerEntry, lot_expiry, summarise

TODAY = date(2026, 11, 23)

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=2)
rates = st.sampled_from([Decimal("1"), Decimal("1.2"), Decimal("1.5"), Decimal("2"),
                         Decimal("0.5"), Decimal("1.25")])
multipliers = st.sampled_from([Decimal(1), Decimal(2), Decimal("1.5"), Decimal(3)])


def test_config_rates_give_the_points_the_bot_promises() -> None:
    gold = EarnRule(points_per_yuan=Decimal("1.5"))
    assert earned_points(Decimal("128.00"), rule=gold, birthday_month=False) == 192
    silver = EarnRule(points_per_yuan=Decimal("1.2"))
    # 99.99 × 1.2 = 119.988: rounded down, never up
    assert earned_points(Decimal("99.99"), rule=silver, birthday_month=False) == 119
    standard = EarnRule(points_per_yuan=Decimal(1), birthday_multiplier=Decimal(2))
    assert earned_points(Decimal("88.80"), rule=standard, birthday_month=True) == 177
    assert earned_points(Decimal("88.80"), rule=standard, birthday_month=False) == 88
    assert earned_points(Decimal("0.99"), rule=standard, birthday_month=False) == 0


def test_birthday_month_is_the_calendar_month_of_the_birthday() -> None:
    assert in_birthday_month(date(1990, 11, 2), date(2026, 11, 30))
    assert not in_birthday_month(date(1990, 11, 2), date(2026, 12, 1))
    assert not in_birthday_month(None, date(2026, 11, 30))


@given(amounts, rates, multipliers, st.booleans())
def test_earned_points_are_the_exact_product_rounded_down(
    amount: Decimal, rate: Decimal, multiplier: Decimal, birthday: bool
) -> None:
    rule = EarnRule(points_per_yuan=rate, birthday_multiplier=multiplier)
    points = earned_points(amount, rule=rule, birthday_month=birthday)
    exact = amount * rate * (multiplier if birthday else 1)
    assert isinstance(points, int)
    assert points <= exact < points + 1


@given(amounts, rates, st.lists(st.integers(min_value=1, max_value=100), min_size=1,
                                max_size=6))
def test_partial_refunds_take_back_exactly_what_was_earned_in_total(
    amount: Decimal, rate: Decimal, weights: list[int]
) -> None:
    earned = earned_points(amount, rule=EarnRule(rate), birthday_month=False)
    fen = int(amount * 100)
    # Split the purchase into refunds proportional to the weights, in whole fen.
    parts = [fen * w // sum(weights) for w in weights]
    parts[-1] += fen - sum(parts)
    parts = [p for p in parts if p > 0]
    taken, refunded = [], Decimal(0)
    for part in parts:
        refund = Decimal(part) / 100
        taken.append(reversed_points(purchase_amount=amount, earned=earned,
                                     refunded_before=refunded, refund_amount=refund))
        refunded += refund
    assert sum(taken) == earned
    assert all(t >= 0 for t in taken)
    # after each refund, what was taken in all is the refunded share, rounded down
    for count in range(1, len(parts) + 1):
        share = Decimal(earned) * sum(parts[:count]) / fen
        assert sum(taken[:count]) <= share < sum(taken[:count]) + 1


def test_a_refund_larger_than_what_is_left_of_the_purchase_is_refused() -> None:
    with pytest.raises(ValueError, match="more than the purchase"):
        reversed_points(purchase_amount=Decimal(100), earned=150, refunded_before=Decimal(60),
                        refund_amount=Decimal("40.01"))
    with pytest.raises(ValueError, match="above zero"):
        reversed_points(purchase_amount=Decimal(100), earned=150, refunded_before=Decimal(0),
                        refund_amount=Decimal(0))
    with pytest.raises(ValueError, match="two decimal places"):
        reversed_points(purchase_amount=Decimal(100), earned=150, refunded_before=Decimal(0),
                        refund_amount=Decimal("1.001"))


def test_a_reversal_takes_what_is_left_and_the_rest_becomes_a_negative_adjustment() -> None:
    assert split_reversal(192, balance=500) == (192, 0)
    assert split_reversal(192, balance=50) == (50, 142)
    assert split_reversal(192, balance=-30) == (0, 192)


ledger_entries = st.lists(
    st.tuples(st.sampled_from([EARN, REDEEM, ADJUST]), st.integers(min_value=1, max_value=5000),
              st.integers(min_value=0, max_value=300)),
    max_size=25)


@settings(max_examples=200)
@given(ledger_entries, amounts, rates, st.integers(min_value=0, max_value=5000))
def test_earn_then_full_refund_leaves_the_balance_unchanged(
    history: list[tuple[str, int, int]], amount: Decimal, rate: Decimal, spent_between: int
) -> None:
    entries = []
    for kind, points, days_ago in history:
        on = TODAY - timedelta(days=days_ago)
        if kind == EARN:
            entries.append(LedgerEntry(EARN, points, on, lot_expiry(on, 12)))
        else:
            entries.append(LedgerEntry(kind, -points, on))
    before = summarise(entries, today=TODAY).balance
    earned = earned_points(amount, rule=EarnRule(rate), birthday_month=False)
    entries.append(LedgerEntry(EARN, earned, TODAY, lot_expiry(TODAY, 12)))
    # the member may spend some of the new points before the refund arrives
    spent = min(spent_between, summarise(entries, today=TODAY).balance)
    if spent > 0:
        entries.append(LedgerEntry(REDEEM, -spent, TODAY))
    balance = summarise(entries, today=TODAY).balance
    taken = reversed_points(purchase_amount=amount, earned=earned, refunded_before=Decimal(0),
                            refund_amount=amount)
    covered, rest = split_reversal(taken, balance=balance)
    for part in (covered, rest):
        if part:
            entries.append(LedgerEntry(ADJUST, -part, TODAY))
    assert taken == earned
    assert summarise(entries, today=TODAY).balance == before - max(spent, 0)


@settings(max_examples=200)
@given(ledger_entries, st.integers(min_value=0, max_value=300),
       st.integers(min_value=-400, max_value=0))
def test_a_replay_resumed_from_its_stored_state_equals_a_full_replay(
    history: list[tuple[str, int, int]], split_days_ago: int, today_offset: int
) -> None:
    from bot.features.loyalty.points import EXPIRE, Replay, sort_key

    entries = []
    for index, (kind, points, days_ago) in enumerate(history):
        on = TODAY - timedelta(days=days_ago)
        if kind == EARN:
            entries.append(LedgerEntry(EARN, points, on, lot_expiry(on, 12)))
        elif index % 5 == 0:
            entries.append(LedgerEntry(EXPIRE, -points, on))
        else:
            entries.append(LedgerEntry(kind, -points, on))
    ordered = sorted(entries, key=sort_key)
    cut = TODAY - timedelta(days=split_days_ago)
    first = [e for e in ordered if e.occurred_on <= cut]
    rest = [e for e in ordered if e.occurred_on > cut]
    stored = Replay()
    stored.apply(first)
    resumed = Replay.from_data(json.loads(json.dumps(stored.as_data())))
    resumed.apply(rest)
    today = TODAY + timedelta(days=today_offset)
    assert resumed.summary(today=today) == summarise(entries, today=today)
