from datetime import date

from bot.features.loyalty.points import (
    ADJUST,
    EARN,
    EXPIRE,
    REDEEM,
    LedgerEntry,
    lot_expiry,
    summarise,
)


def earn(points: int, on: date, expires: date) -> LedgerEntry:
    return LedgerEntry(EARN, points, on, expires)


def test_lot_expiry_is_the_last_day_of_the_month_lifetime_later() -> None:
    assert lot_expiry(date(2025, 11, 3), 12) == date(2026, 11, 30)
    assert lot_expiry(date(2025, 2, 10), 12) == date(2026, 2, 28)
    assert lot_expiry(date(2023, 2, 10), 12) == date(2024, 2, 29)
    assert lot_expiry(date(2025, 12, 31), 1) == date(2026, 1, 31)


def test_a_lot_is_valid_on_its_expiry_day_and_gone_the_day_after() -> None:
    entries = [earn(500, date(2025, 11, 3), date(2026, 11, 30))]
    on_the_day = summarise(entries, today=date(2026, 11, 30))
    after = summarise(entries, today=date(2026, 12, 1))
    assert on_the_day.balance == 500
    assert after.balance == 0
    assert after.expired == 500
    assert after.lots == ()


def test_redemption_consumes_the_oldest_lot_first() -> None:
    entries = [
        earn(300, date(2026, 1, 5), date(2027, 1, 31)),
        earn(200, date(2025, 12, 5), date(2026, 12, 31)),
        LedgerEntry(REDEEM, -250, date(2026, 3, 1)),
    ]
    summary = summarise(entries, today=date(2026, 3, 2))
    assert summary.balance == 250
    remaining = {lot.expires_on: lot.remaining for lot in summary.lots}
    # the lot expiring first (Dec 2026) is emptied before the January 2027 lot is touched
    assert remaining == {date(2027, 1, 31): 250}


def test_redemption_skips_lapsed_lots() -> None:
    entries = [
        earn(100, date(2024, 1, 1), date(2025, 1, 31)),
        earn(100, date(2025, 1, 1), date(2026, 1, 31)),
        LedgerEntry(REDEEM, -50, date(2025, 3, 1)),
    ]
    summary = summarise(entries, today=date(2025, 3, 1))
    assert summary.balance == 50
    assert summary.expired == 100


def test_written_expiry_is_not_counted_twice() -> None:
    entries = [
        earn(150, date(2024, 11, 10), date(2025, 11, 30)),
        earn(400, date(2025, 6, 1), date(2026, 6, 30)),
        LedgerEntry(EXPIRE, -150, date(2025, 12, 1)),
    ]
    summary = summarise(entries, today=date(2026, 1, 1))
    assert summary.balance == 400
    assert summary.expired == 150


def test_negative_adjustment_beyond_the_balance_is_a_deficit_repaid_by_the_next_earn() -> None:
    entries = [
        earn(100, date(2026, 1, 1), date(2027, 1, 31)),
        LedgerEntry(ADJUST, -160, date(2026, 2, 1)),
        earn(100, date(2026, 3, 1), date(2027, 3, 31)),
    ]
    summary = summarise(entries, today=date(2026, 3, 2))
    assert summary.balance == 40
    assert summary.deficit == 0


def test_expiring_by_lists_only_lots_due_by_the_day() -> None:
    entries = [
        earn(100, date(2025, 11, 1), date(2026, 11, 30)),
        earn(70, date(2025, 12, 1), date(2026, 12, 31)),
    ]
    summary = summarise(entries, today=date(2026, 11, 23))
    due = summary.expiring_by(date(2026, 12, 23))
    assert [(lot.expires_on, lot.remaining) for lot in due] == [(date(2026, 11, 30), 100)]
