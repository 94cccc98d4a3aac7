"""Points lots from the ledger: balance, FIFO consumption, and what expires when."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

EARN = "earn"
REDEEM = "redeem"
EXPIRE = "expire"
ADJUST = "adjust"
KINDS = (EARN, REDEEM, EXPIRE, ADJUST)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """The parts of a ledger row the lot arithmetic needs."""

    kind: str
    points: int
    occurred_on: date
    expires_on: date | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Lot:
    """Points earned together, valid through ``expires_on`` (inclusive)."""

    earned_on: date
    expires_on: date
    original: int
    remaining: int


@dataclass(slots=True)
class _OpenLot:
    earned_on: date
    expires_on: date
    original: int
    remaining: int


@dataclass(frozen=True, slots=True)
class PointsSummary:
    balance: int
    lots: tuple[Lot, ...]
    expired: int
    # Debits that found no lot to consume (e.g. a manual correction): they lower the balance.
    deficit: int
    # Lots past their day with points left that no expire entry has written off yet.
    lapsed: tuple[Lot, ...] = ()

    def expiring_by(self, last_day: date) -> list[Lot]:
        return [lot for lot in self.lots if lot.remaining > 0 and lot.expires_on <= last_day]


def lot_expiry(earned_on: date, lifetime_months: int) -> date:
    """Points earned in a month stay valid until the last day of the month ``lifetime`` later."""
    month_index = earned_on.month - 1 + lifetime_months
    year, month = earned_on.year + month_index // 12, month_index % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def summarise(entries: Iterable[LedgerEntry], *, today: date) -> PointsSummary:
    """Replays the ledger in time order.

    Earns open lots. Redemptions and negative adjustments consume the lots still valid on
    their day, oldest expiry first. Expire entries consume the lots that had lapsed by their
    day. Whatever remains in a lot after its expiry date counts as expired, written or not.
    """
    ordered = sorted(entries, key=lambda e: (e.occurred_on, e.occurred_at or datetime.min,
                                             0 if e.kind == EARN else 1))
    open_lots: list[_OpenLot] = []
    deficit = 0
    expired_written = 0
    for entry in ordered:
        if entry.points > 0:
            amount = entry.points
            if deficit:  # a positive entry first pays back an earlier uncovered debit
                paid = min(deficit, amount)
                deficit -= paid
                amount -= paid
            open_lots.append(_OpenLot(entry.occurred_on, entry.expires_on or date.max,
                                      entry.points, amount))
            open_lots.sort(key=lambda lot: (lot.expires_on, lot.earned_on))
            continue
        owed = -entry.points
        for lot in open_lots:
            if owed == 0:
                break
            lapsed = lot.expires_on < entry.occurred_on
            if (entry.kind == EXPIRE) != lapsed:
                continue
            take = min(owed, lot.remaining)
            lot.remaining -= take
            owed -= take
        if entry.kind == EXPIRE:
            expired_written += -entry.points - owed
        else:
            deficit += owed
    lots = [Lot(lot.earned_on, lot.expires_on, lot.original, lot.remaining) for lot in open_lots]
    live = sum(lot.remaining for lot in lots if lot.expires_on >= today)
    lapsed_unwritten = sum(lot.remaining for lot in lots if lot.expires_on < today)
    return PointsSummary(
        balance=live - deficit,
        lots=tuple(lot for lot in lots if lot.expires_on >= today and lot.remaining > 0),
        expired=expired_written + lapsed_unwritten,
        deficit=deficit,
        lapsed=tuple(lot for lot in lots if lot.expires_on < today and lot.remaining > 0),
    )
