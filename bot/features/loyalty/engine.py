"""Purchases and refunds from tills, shops and imports: points by the tier rules, once per ref.

Each function works inside the caller's transaction and locks the member's row first, so two
writes for one member never read the same balance. A ``ref`` seen before is answered from its
stored receipt and changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import KefuError
from bot.core.storage import members as member_store
from bot.core.storage import receipts
from bot.core.storage.models import Member
from bot.core.storage.models_loyalty import LoyaltyReceipt
from bot.features.loyalty.earning import (
    EarnRule,
    earned_points,
    in_birthday_month,
    reversed_points,
    split_reversal,
)
from bot.features.loyalty.ledger import add_purchase, add_transaction, lock_member
from bot.features.loyalty.points import ADJUST, EARN, lot_expiry
from bot.features.loyalty.service import MemberStanding, member_standing, member_zone, tier_at
from bot.features.loyalty.vouchers import issue_vouchers
from bot.settings import Settings

PURCHASE = "purchase"
REFUND = "refund"
MAX_AMOUNT = Decimal("1000000")
# Tills' clocks drift; a purchase a few minutes "in the future" is still accepted.
CLOCK_SKEW = timedelta(minutes=5)


class Refused(KefuError):
    """A purchase or refund Kefu does not record. ``field`` names the culprit; ``conflict``
    marks a ref already used for something else."""

    def __init__(self, field: str, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict


@dataclass(frozen=True, slots=True)
class PurchaseIn:
    ref: str
    amount: Decimal
    occurred_at: datetime
    store: str | None = None


@dataclass(frozen=True, slots=True)
class RefundIn:
    ref: str
    purchase_ref: str
    amount: Decimal
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What Kefu answers for one purchase or refund; a repeat gets the same."""

    ref: str
    kind: str
    member_no: str
    tier: str
    points: int
    balance: int
    repeated: bool = False

    def as_answer(self) -> dict[str, object]:
        return {"ref": self.ref, "member": self.member_no, "tier": self.tier,
                "points": self.points, "balance": self.balance}


def check_amount(amount: Decimal, *, field: str = "amount") -> Decimal:
    """A positive amount in yuan with at most two decimals, up to ``MAX_AMOUNT``."""
    if not amount.is_finite() or amount <= 0:
        raise Refused(field, f"{field} must be above 0 yuan, got {amount}")
    if amount > MAX_AMOUNT:
        raise Refused(field, f"{field} {amount} is more than {MAX_AMOUNT} yuan; check the units")
    if amount != amount.quantize(Decimal("0.01")):
        raise Refused(field, f"{field} {amount} has more than two decimal places (fen)")
    return amount.quantize(Decimal("0.01"))


def check_time(moment: datetime, *, now: datetime, field: str = "occurred_at") -> datetime:
    if moment.tzinfo is None:
        raise Refused(field, f"{field} needs a time zone offset, e.g. 2026-11-23T14:00:00+08:00")
    if moment > now + CLOCK_SKEW:
        raise Refused(field, f"{field} {moment.isoformat()} is in the future")
    return moment


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def _purchase_digest(member_id: int, purchase: PurchaseIn) -> str:
    return _digest(PURCHASE, member_id, purchase.amount.quantize(Decimal("0.01")),
                   purchase.occurred_at.timestamp(), purchase.store or "")


def _refund_digest(refund: RefundIn) -> str:
    return _digest(REFUND, refund.purchase_ref, refund.amount.quantize(Decimal("0.01")))


async def _repeat(session: AsyncSession, receipt: LoyaltyReceipt, digest: str) -> Outcome:
    if receipt.digest != digest:
        raise Refused("ref", f"ref {receipt.ref!r} was already used for a different "
                             f"{receipt.kind}; use a new ref", conflict=True)
    member = await member_store.get_member(session, member_id=receipt.member_id)
    return Outcome(receipt.ref, receipt.kind, member.member_no if member else "", receipt.tier,
                   receipt.points, receipt.balance, repeated=True)


async def record_purchase(
    session: AsyncSession,
    *,
    member: Member,
    birthday: date | None,
    purchase: PurchaseIn,
    settings: Settings,
    now: datetime,
    source: str,
    tier: str | None = None,
) -> Outcome:
    """Records the purchase and earns its points by the tier the member had at its time
    (``tier``: the one a plugged-in member directory reports instead).

    Raises:
        Refused: the ref was used before for a different purchase.
    """
    digest = _purchase_digest(member.id, purchase)
    existing = await receipts.find_receipt(session, ref=purchase.ref)
    if existing is not None:
        return await _repeat(session, existing, digest)
    await lock_member(session, member_id=member.id)
    zone = member_zone(member, settings)
    day = purchase.occurred_at.astimezone(zone).date()
    if tier is None:
        tier = await tier_at(session, member=member, settings=settings,
                             moment=purchase.occurred_at)
    rule = settings.tier(tier)
    points = earned_points(purchase.amount,
                           rule=EarnRule(rule.points_per_yuan, rule.birthday_multiplier),
                           birthday_month=in_birthday_month(birthday, day))
    receipt_id = await receipts.add_receipt(
        session, ref=purchase.ref, kind=PURCHASE, member_id=member.id, purchase_ref=None,
        amount=purchase.amount, store_code=purchase.store, occurred_at=purchase.occurred_at,
        tier=tier, points=points, balance=0, digest=digest, source=source, created_at=now)
    if receipt_id is None:  # the same ref committed by a concurrent request
        stored = await receipts.find_receipt(session, ref=purchase.ref)
        assert stored is not None
        return await _repeat(session, stored, digest)
    known = await add_purchase(session, member_id=member.id, amount=purchase.amount,
                               occurred_at=purchase.occurred_at, store_code=purchase.store,
                               external_ref=purchase.ref) is None
    if known:  # imported before with its own points rows: it has earned already
        points = 0
    if points:
        await add_transaction(
            session, member_id=member.id, kind=EARN, points=points,
            occurred_at=purchase.occurred_at,
            expires_on=lot_expiry(day, settings.membership.points.lot_lifetime_months),
            reason=f"消费积分 {purchase.ref}"[:200], external_ref=f"purchase:{purchase.ref}")
    standing = await _settle(session, receipt_id=receipt_id, member=member,
                             settings=settings, now=now, points=points)
    # A purchase may lift the member into a tier whose vouchers are due this period.
    await issue_vouchers(session, member=member, tier=standing.tier, birthday=birthday,
                         day=standing.today, settings=settings, now=now)
    return Outcome(purchase.ref, PURCHASE, member.member_no, tier, points,
                   standing.points.balance)


async def record_refund(
    session: AsyncSession, *, refund: RefundIn, settings: Settings, now: datetime, source: str
) -> Outcome:
    """Takes back the refunded share of the points the purchase earned: from what the member
    has left, the rest as a negative adjustment their next earnings pay back.

    Raises:
        Refused: unknown purchase, a refund beyond what is left of it, or a reused ref.
    """
    digest = _refund_digest(refund)
    existing = await receipts.find_receipt(session, ref=refund.ref)
    if existing is not None:
        return await _repeat(session, existing, digest)
    purchase = await receipts.find_receipt(session, ref=refund.purchase_ref)
    if purchase is None or purchase.kind != PURCHASE:
        raise Refused("purchase_ref", f"no purchase with ref {refund.purchase_ref!r}")
    member = await member_store.get_member(session, member_id=purchase.member_id)
    assert member is not None
    await lock_member(session, member_id=member.id)
    before = await receipts.refunded_total(session, purchase_ref=purchase.ref)
    left = purchase.amount - before
    if refund.amount > left:
        raise Refused("amount", f"amount {refund.amount} is more than what is left to refund of "
                                f"purchase {purchase.ref!r} ({left})")
    take = reversed_points(purchase_amount=purchase.amount, earned=purchase.points,
                           refunded_before=before, refund_amount=refund.amount)
    standing = await member_standing(session, member=member, settings=settings, now=now)
    covered, rest = split_reversal(take, balance=standing.points.balance)
    receipt_id = await receipts.add_receipt(
        session, ref=refund.ref, kind=REFUND, member_id=member.id, purchase_ref=purchase.ref,
        amount=refund.amount, store_code=purchase.store_code, occurred_at=refund.occurred_at,
        tier=purchase.tier, points=-take, balance=0, digest=digest, source=source,
        created_at=now)
    if receipt_id is None:
        stored = await receipts.find_receipt(session, ref=refund.ref)
        assert stored is not None
        return await _repeat(session, stored, digest)
    await add_purchase(session, member_id=member.id, amount=-refund.amount,
                       occurred_at=refund.occurred_at, store_code=purchase.store_code,
                       external_ref=f"refund:{refund.ref}")
    if covered:
        await add_transaction(session, member_id=member.id, kind=ADJUST, points=-covered,
                              occurred_at=refund.occurred_at,
                              reason=f"退货扣回积分 {purchase.ref}"[:200],
                              external_ref=f"refund:{refund.ref}")
    if rest:
        await add_transaction(session, member_id=member.id, kind=ADJUST, points=-rest,
                              occurred_at=refund.occurred_at,
                              reason=f"退货扣回积分（余额不足部分） {purchase.ref}"[:200],
                              external_ref=f"refund:{refund.ref}:rest")
    standing = await _settle(session, receipt_id=receipt_id, member=member,
                             settings=settings, now=now, points=-take)
    return Outcome(refund.ref, REFUND, member.member_no, purchase.tier, -take,
                   standing.points.balance)


async def _settle(
    session: AsyncSession, *, receipt_id: int, member: Member, settings: Settings,
    now: datetime, points: int,
) -> MemberStanding:
    """The standing after the write; its balance is stored on the receipt so that a repeat
    answers the same."""
    standing = await member_standing(session, member=member, settings=settings, now=now)
    await session.execute(update(LoyaltyReceipt).where(LoyaltyReceipt.id == receipt_id)
                          .values(balance=standing.points.balance, points=points))
    return standing
