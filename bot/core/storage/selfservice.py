"""Data functions for profile-change records and per-channel opt-outs (keyword-only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models_selfservice import ChannelOptOut, ProfileChange
from bot.core.storage.upsert import insert_ignore


async def last_change(
    session: AsyncSession, *, member_id: int, field: str
) -> ProfileChange | None:
    result = await session.execute(
        select(ProfileChange)
        .where(ProfileChange.member_id == member_id, ProfileChange.field == field)
        .order_by(ProfileChange.changed_at.desc(), ProfileChange.id.desc())
        .limit(1))
    return result.scalar_one_or_none()


async def record_change(
    session: AsyncSession, *, member_id: int, field: str, channel: str, now: datetime
) -> None:
    session.add(ProfileChange(member_id=member_id, field=field, channel=channel, changed_at=now))
    await session.flush()


async def opt_out(session: AsyncSession, *, identity_id: int, topic: str, now: datetime) -> None:
    await insert_ignore(session, ChannelOptOut,
                        {"identity_id": identity_id, "topic": topic, "created_at": now},
                        conflict=["identity_id", "topic"])


async def opt_in(session: AsyncSession, *, identity_id: int, topic: str) -> None:
    await session.execute(delete(ChannelOptOut).where(
        ChannelOptOut.identity_id == identity_id, ChannelOptOut.topic == topic))


async def opted_out_topics(session: AsyncSession, *, identity_id: int) -> set[str]:
    result = await session.execute(
        select(ChannelOptOut.topic).where(ChannelOptOut.identity_id == identity_id))
    return set(result.scalars())
