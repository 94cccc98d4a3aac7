"""The reward catalogue, and redeeming points for a reward once, under a lock on the member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import to_simplified
from bot.core.storage.models import Member, PointTransaction
from bot.features.loyalty.ledger import add_transaction
from bot.features.loyalty.points import REDEEM
from bot.features.loyalty.service import member_standing
from bot.features.loyalty.stock import take_from_stock
from bot.settings import Reward, Settings


@dataclass(frozen=True, slots=True)
class Redemption:
    status: Literal["redeemed", "already", "short", "sold_out"]
    # The balance after the debit (redeemed, already) or as it stands (short).
    balance: int
    transaction_id: int | None


def catalogue(settings: Settings) -> list[Reward]:
    """Rewards that can be had, cheapest first (a stock of 0 means none left)."""
    return sorted((r for r in settings.rewards if r.stock != 0), key=lambda r: r.points)


def find_reward(settings: Settings, text: str) -> Reward | None:
    """The reward named in ``text``: its code, its number in the list, or any of its names."""
    wanted = to_simplified(text.strip()).lower()
    if not wanted:
        return None
    rewards = catalogue(settings)
    if wanted.isdigit() and 1 <= int(wanted) <= len(rewards):
        return rewards[int(wanted) - 1]
    for reward in rewards:
        names = [reward.code, *(to_simplified(n).lower() for n in reward.names.values())]
        if wanted in names or any(len(name) >= 2 and name in wanted for name in names):
            return reward
    return None


async def lock_member(session: AsyncSession, *, member_id: int) -> None:
    """Holds the member's row until the transaction ends: redemptions queue up behind it."""
    await session.execute(select(Member.id).where(Member.id == member_id).with_for_update())


async def redeem_reward(
    session: AsyncSession, *, member: Member, reward: Reward, ref: str, settings: Settings,
    now: datetime,
) -> Redemption:
    """Debits ``reward.points`` once per ``ref``; refuses when the balance is short or the
    reward is sold out (its stock is taken in the same transaction).

    The member row lock makes concurrent redemptions of the same points wait for each other
    (PostgreSQL); the balance is read only after the lock, so the second sees the first's
    debit. ``ref`` (unique per member in the ledger) makes a repeated request a no-op.
    """
    await lock_member(session, member_id=member.id)
    done = await session.scalar(select(PointTransaction.id).where(
        PointTransaction.member_id == member.id, PointTransaction.external_ref == ref))
    standing = await member_standing(session, member=member, settings=settings, now=now)
    balance = standing.points.balance
    if done is not None:
        return Redemption("already", balance, done)
    if balance < reward.points:
        return Redemption("short", balance, None)
    # The stock is taken in the same transaction as the debit: both happen or neither.
    if not await take_from_stock(session, reward, now=now):
        return Redemption("sold_out", balance, None)
    transaction_id = await add_transaction(
        session, member_id=member.id, kind=REDEEM, points=-reward.points, occurred_at=now,
        reason=reward.names.get("zh-Hans", reward.code), external_ref=ref)
    if transaction_id is None:  # the same request won a race we could not see
        return Redemption("already", balance, None)
    return Redemption("redeemed", balance - reward.points, transaction_id)
