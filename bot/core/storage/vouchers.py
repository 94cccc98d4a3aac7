"""Data functions for tier vouchers in members' rewards (one per member, code and period)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models_loyalty import MemberVoucher
from bot.core.storage.upsert import insert_ignore


async def add_voucher(session: AsyncSession, *, member_id: int, code: str, period: str,
                      tier: str, now: datetime) -> bool:
    """``False`` when the member already has this voucher for this period."""
    added = await insert_ignore(session, MemberVoucher,
                                {"member_id": member_id, "code": code, "period": period,
                                 "tier": tier, "issued_at": now},
                                conflict=["member_id", "code", "period"])
    return added is not None


async def unused_vouchers(session: AsyncSession, *, member_id: int) -> list[MemberVoucher]:
    result = await session.execute(
        select(MemberVoucher)
        .where(MemberVoucher.member_id == member_id, MemberVoucher.used_at.is_(None))
        .order_by(MemberVoucher.issued_at, MemberVoucher.id))
    return list(result.scalars())
