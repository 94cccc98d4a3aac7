"""What a purchase earns and what a refund takes back: pure rules on Decimal and int.

Money is ``Decimal`` yuan with at most two places; points are ``int``. Every division is done
on whole fen (cents) with integer arithmetic, so no rounding error can creep in; points are
always rounded down to whole points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

FEN = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class EarnRule:
    """A tier's earning terms (``membership.tiers[].points_per_yuan`` and
    ``birthday_multiplier`` in config.yml)."""

    points_per_yuan: Decimal
    birthday_multiplier: Decimal = Decimal(1)


def in_birthday_month(birthday: date | None, day: date) -> bool:
    """Whether ``day`` (the purchase's date in the member's zone) is in the birthday month."""
    return birthday is not None and birthday.month == day.month


def earned_points(amount: Decimal, *, rule: EarnRule, birthday_month: bool) -> int:
    """Points for spending ``amount`` yuan: amount × points_per_yuan (× the birthday
    multiplier in the birthday month), rounded down to whole points. Nothing for 0 or less."""
    if amount <= 0:
        return 0
    multiplier = rule.birthday_multiplier if birthday_month else Decimal(1)
    exact = amount * rule.points_per_yuan * multiplier  # Decimal products are exact here
    return int(exact.to_integral_value(rounding=ROUND_FLOOR))


def to_fen(amount: Decimal) -> int:
    """Whole fen; raises ``ValueError`` for amounts with more than two decimal places."""
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"amount {amount} has more than two decimal places")
    return int(fen)


def reversed_points(
    *, purchase_amount: Decimal, earned: int, refunded_before: Decimal, refund_amount: Decimal
) -> int:
    """Points a refund takes back: the refunded share of what the purchase earned.

    Counted on the running total of refunds, so partial refunds together take back exactly
    what the purchase earned once it is refunded in full (each share is rounded down in the
    member's favour, the last one makes up the difference).

    Raises:
        ValueError: the refund is not positive or would exceed the purchase amount.
    """
    total, before, now = to_fen(purchase_amount), to_fen(refunded_before), to_fen(refund_amount)
    if now <= 0:
        raise ValueError("a refund amount must be above zero")
    if before < 0 or before + now > total:
        raise ValueError(f"refunds would total {Decimal(before + now) / 100}, more than the "
                         f"purchase's {purchase_amount}")

    def share(fen: int) -> int:
        return earned * fen // total

    return share(before + now) - share(before)


def split_reversal(points: int, *, balance: int) -> tuple[int, int]:
    """How a reversal of ``points`` is written: the part the member still has (taken from
    their lots) and the rest, a negative adjustment the next earnings pay back first."""
    if points < 0:
        raise ValueError("a reversal is a positive number of points to take back")
    covered = min(points, max(balance, 0))
    return covered, points - covered
