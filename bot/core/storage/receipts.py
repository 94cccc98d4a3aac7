"""Data functions for receipts from tills and shops, and the keys they sign with."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models_loyalty import Integration, LoyaltyReceipt, SeenSignature
from bot.core.storage.upsert import insert_ignore


async def find_receipt(session: AsyncSession, *, ref: str) -> LoyaltyReceipt | None:
    result = await session.execute(select(LoyaltyReceipt).where(LoyaltyReceipt.ref == ref))
    return result.scalar_one_or_none()


async def add_receipt(session: AsyncSession, **values: Any) -> int | None:
    """Stores a receipt; ``None`` when its ``ref`` was stored before (then nothing changes)."""
    return await insert_ignore(session, LoyaltyReceipt, values, conflict=["ref"])


async def refunded_total(session: AsyncSession, *, purchase_ref: str) -> Decimal:
    total = await session.scalar(
        select(func.coalesce(func.sum(LoyaltyReceipt.amount), 0)).where(
            LoyaltyReceipt.kind == "refund", LoyaltyReceipt.purchase_ref == purchase_ref))
    return Decimal(str(total or 0))


async def add_integration(
    session: AsyncSession, *, key_id: str, name: str, secret_hash: str, now: datetime
) -> Integration:
    integration = Integration(key_id=key_id, name=name, secret_hash=secret_hash, created_at=now)
    session.add(integration)
    await session.flush()
    return integration


async def find_integration(session: AsyncSession, *, key_id: str) -> Integration | None:
    result = await session.execute(select(Integration).where(Integration.key_id == key_id))
    return result.scalar_one_or_none()


async def all_integrations(session: AsyncSession) -> list[Integration]:
    return list((await session.execute(select(Integration).order_by(Integration.id))).scalars())


async def revoke_integration(session: AsyncSession, *, key_id: str, now: datetime) -> bool:
    """Revokes an active key; ``False`` when there is no such active key."""
    result = await session.execute(
        update(Integration).where(Integration.key_id == key_id, Integration.revoked_at.is_(None))
        .values(revoked_at=now).returning(Integration.id))
    return result.scalar_one_or_none() is not None


async def mark_used(session: AsyncSession, *, integration_id: int, now: datetime) -> None:
    await session.execute(update(Integration).where(Integration.id == integration_id)
                          .values(last_used_at=now))


async def claim_signature(
    session: AsyncSession, *, signature: str, now: datetime, window: timedelta
) -> bool:
    """Records a signature as used; ``False`` when it was used before (a replay). Signatures
    older than twice the window can never be valid again and are dropped."""
    await session.execute(delete(SeenSignature).where(SeenSignature.seen_at < now - 2 * window))
    added = await insert_ignore(session, SeenSignature, {"signature": signature, "seen_at": now},
                                conflict=["signature"])
    return added is not None
