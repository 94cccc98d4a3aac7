"""Points lots from the ledger: balance, FIFO consumption, and what expires when."""

from __future__ import annotations

import calendar
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

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


def _consume(lots: list[_OpenLot], owed: int) -> int:
    """Takes ``owed`` from ``lots`` in order, drops the emptied ones; returns what is left
    owing."""
    emptied = 0
    for lot in lots:
        if owed == 0:
            break
        take = min(owed, lot.remaining)
        lot.remaining -= take
        owed -= take
        if lot.remaining == 0:
            emptied += 1
    del lots[:emptied]  # consumption goes in order, so the emptied lots are a prefix
    return owed


def _add_lot(lots: list[_OpenLot], lot: _OpenLot) -> None:
    """Adds to the lot expiring the same day, if any: lots expiring together are consumed
    and lapse together, so only the day matters (the earliest earning day is kept)."""
    index = bisect_left(lots, lot.expires_on, key=lambda open_lot: open_lot.expires_on)
    if index < len(lots) and lots[index].expires_on == lot.expires_on:
        same = lots[index]
        same.earned_on = min(same.earned_on, lot.earned_on)
        same.original += lot.original
        same.remaining += lot.remaining
    else:
        lots.insert(index, lot)


def sort_key(entry: LedgerEntry) -> tuple[date, datetime, int]:
    """Replay order: by day, then time, earnings before debits at the same moment."""
    return (entry.occurred_on, entry.occurred_at or datetime.min,
            0 if entry.kind == EARN else 1)


@dataclass(slots=True)
class Replay:
    """The ledger replayed so far: what is left in each lot, and the uncovered debits.

    Resumable: entries later than every entry applied so far can be applied on top of a
    stored state (see :meth:`as_data`), giving the same result as replaying everything.
    """

    valid: list[_OpenLot] = field(default_factory=list)  # by expiry, valid on the last day
    lapsed: list[_OpenLot] = field(default_factory=list)  # by expiry, past it, points left
    deficit: int = 0
    expired_written: int = 0

    def apply(self, ordered: Iterable[LedgerEntry]) -> None:
        """Applies entries given in :func:`sort_key` order."""
        for entry in ordered:
            moved = 0
            while moved < len(self.valid) and self.valid[moved].expires_on < entry.occurred_on:
                _add_lot(self.lapsed, self.valid[moved])
                moved += 1
            del self.valid[:moved]
            if entry.points > 0:
                amount = entry.points
                if self.deficit:  # a positive entry first pays back an uncovered debit
                    paid = min(self.deficit, amount)
                    self.deficit -= paid
                    amount -= paid
                if amount:
                    lot = _OpenLot(entry.occurred_on, entry.expires_on or date.max,
                                   entry.points, amount)
                    _add_lot(self.lapsed if lot.expires_on < entry.occurred_on else self.valid,
                             lot)
                continue
            if entry.kind == EXPIRE:
                owed = _consume(self.lapsed, -entry.points)
                self.expired_written += -entry.points - owed
            else:
                self.deficit += _consume(self.valid, -entry.points)

    def summary(self, *, today: date) -> PointsSummary:
        lots = sorted((Lot(lot.earned_on, lot.expires_on, lot.original, lot.remaining)
                       for lot in (*self.valid, *self.lapsed)),
                      key=lambda lot: (lot.expires_on, lot.earned_on))
        live = sum(lot.remaining for lot in lots if lot.expires_on >= today)
        lapsed_unwritten = sum(lot.remaining for lot in lots if lot.expires_on < today)
        return PointsSummary(
            balance=live - self.deficit,
            lots=tuple(lot for lot in lots if lot.expires_on >= today and lot.remaining > 0),
            expired=self.expired_written + lapsed_unwritten,
            deficit=self.deficit,
            lapsed=tuple(lot for lot in lots if lot.expires_on < today and lot.remaining > 0),
        )

    def as_data(self) -> dict[str, Any]:
        def lots(items: list[_OpenLot]) -> list[list[Any]]:
            return [[lot.earned_on.isoformat(), lot.expires_on.isoformat(), lot.original,
                     lot.remaining] for lot in items]

        return {"valid": lots(self.valid), "lapsed": lots(self.lapsed),
                "deficit": self.deficit, "expired_written": self.expired_written}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Replay:
        def lots(items: list[list[Any]]) -> list[_OpenLot]:
            return [_OpenLot(date.fromisoformat(a), date.fromisoformat(b), int(c), int(d))
                    for a, b, c, d in items]

        return cls(lots(data["valid"]), lots(data["lapsed"]), int(data["deficit"]),
                   int(data["expired_written"]))


def summarise(entries: Iterable[LedgerEntry], *, today: date) -> PointsSummary:
    """Replays the ledger in time order.

    Earns open lots. Redemptions and negative adjustments consume the lots still valid on
    their day, oldest expiry first. Expire entries consume the lots that had lapsed by their
    day. Whatever remains in a lot after its expiry date counts as expired, written or not.
    Lots expiring on the same day are one lot (they are consumed and lapse together).
    """
    replay = Replay()
    replay.apply(sorted(entries, key=sort_key))
    return replay.summary(today=today)
