"""Reward stock: what config.yml allows, less what members redeemed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage import stock as store
from bot.settings import Reward


async def stock_left(session: AsyncSession, rewards: list[Reward],
                     *, now: datetime) -> dict[str, int | None]:
    """Units left per reward code; ``None`` for rewards without a stock limit."""
    limited = [r for r in rewards if r.stock is not None]
    for reward in limited:
        assert reward.stock is not None
        await store.ensure_stock(session, code=reward.code, configured=reward.stock, now=now)
    left = await store.remaining(session, codes=[r.code for r in limited])
    return {r.code: (left.get(r.code, 0) if r.stock is not None else None) for r in rewards}


async def take_from_stock(session: AsyncSession, reward: Reward, *, now: datetime) -> bool:
    """Takes one unit in the caller's transaction; ``False`` when it is sold out (a reward
    without a limit always succeeds)."""
    if reward.stock is None:
        return True
    await store.ensure_stock(session, code=reward.code, configured=reward.stock, now=now)
    return await store.take_one(session, code=reward.code, now=now) is not None
