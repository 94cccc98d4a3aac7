"""Data functions of after-sales surveys (keyword-only; None when not found)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models import Purchase
from bot.core.storage.models_proactive import Survey
from bot.core.storage.upsert import insert_ignore


async def unsurveyed_purchases(session: AsyncSession, *, since: datetime, until: datetime
                               ) -> list[Purchase]:
    """Purchases made in [since, until) that have no survey yet."""
    asked = select(Survey.purchase_id)
    result = await session.execute(
        select(Purchase).where(Purchase.occurred_at >= since, Purchase.occurred_at < until,
                               Purchase.id.not_in(asked)).order_by(Purchase.id))
    return list(result.scalars())


async def start_survey(session: AsyncSession, *, purchase: Purchase, identity_id: int | None,
                       now: datetime) -> int | None:
    """The new survey's id; ``None`` when this purchase was surveyed already (another process
    or an earlier run got there first)."""
    return await insert_ignore(session, Survey, {
        "purchase_id": purchase.id, "member_id": purchase.member_id, "identity_id": identity_id,
        "asked_at": now}, conflict=["purchase_id"])


async def get_survey(session: AsyncSession, *, survey_id: int) -> Survey | None:
    return await session.get(Survey, survey_id)
