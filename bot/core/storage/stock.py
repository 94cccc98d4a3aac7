"""Data functions for reward stock: one row per limited reward, decremented atomically."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models_loyalty import RewardStock
from bot.core.storage.upsert import insert_ignore


async def ensure_stock(session: AsyncSession, *, code: str, configured: int,
                       now: datetime) -> None:
    """Creates the reward's row from config, or applies a change of the configured stock to
    what is left (raising it by 50 adds 50; lowering it takes away, never below zero)."""
    known = (await session.execute(select(RewardStock.configured)
                                   .where(RewardStock.code == code))).scalar_one_or_none()
    if known is None:
        await insert_ignore(session, RewardStock, {"code": code, "configured": configured,
                                                   "remaining": configured, "updated_at": now},
                            conflict=["code"])
        return
    if known != configured:
        changed = RewardStock.remaining + (configured - known)
        # Conditional on the value read, so two processes apply one config change once.
        await session.execute(
            update(RewardStock)
            .where(RewardStock.code == code, RewardStock.configured == known)
            .values(remaining=case((changed < 0, 0), else_=changed), configured=configured,
                    updated_at=now))


async def remaining(session: AsyncSession, *, codes: list[str]) -> dict[str, int]:
    rows = await session.execute(select(RewardStock.code, RewardStock.remaining)
                                 .where(RewardStock.code.in_(codes)))
    return {code: left for code, left in rows.all()}


async def take_one(session: AsyncSession, *, code: str, now: datetime) -> int | None:
    """Takes one unit; returns what is left, or ``None`` when none was left.

    One UPDATE with the condition in its WHERE: on PostgreSQL a concurrent taker waits for the
    row and re-checks the condition after the first commits, so stock never goes below zero.
    """
    result = await session.execute(
        update(RewardStock)
        .where(RewardStock.code == code, RewardStock.remaining > 0)
        .values(remaining=RewardStock.remaining - 1, updated_at=now)
        .returning(RewardStock.remaining))
    left: int | None = result.scalar_one_or_none()
    return left
