"""Data functions for members and their channel identities (keyword-only, None = not found)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models import ChannelIdentity, Member
from bot.core.storage.upsert import insert_ignore


async def get_member(session: AsyncSession, *, member_id: int) -> Member | None:
    return await session.get(Member, member_id)


async def find_member_by_no(session: AsyncSession, *, member_no: str) -> Member | None:
    result = await session.execute(select(Member).where(Member.member_no == member_no))
    return result.scalar_one_or_none()


async def find_member_by_phone_index(session: AsyncSession, *, phone_index: str) -> Member | None:
    result = await session.execute(select(Member).where(Member.phone_index == phone_index))
    return result.scalar_one_or_none()


async def find_member_by_phone_indexes(
    session: AsyncSession, *, phone_indexes: list[str]
) -> Member | None:
    """The member whose phone index is any of ``phone_indexes`` (one per key in use)."""
    result = await session.execute(
        select(Member).where(Member.phone_index.in_(phone_indexes)).order_by(Member.id).limit(1))
    return result.scalar_one_or_none()


async def members_by_birthday_indexes(
    session: AsyncSession, *, birthday_indexes: list[str]
) -> list[Member]:
    result = await session.execute(
        select(Member)
        .where(Member.birthday_index.in_(birthday_indexes), Member.erased_at.is_(None))
        .order_by(Member.id))
    return list(result.scalars())


async def find_identity(
    session: AsyncSession, *, channel: str, external_id: str
) -> ChannelIdentity | None:
    result = await session.execute(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
        )
    )
    return result.scalar_one_or_none()


async def ensure_identity(
    session: AsyncSession, *, channel: str, external_id: str, now: datetime
) -> ChannelIdentity:
    """The identity of a sender, created on first contact (safe under concurrent first contact)."""
    await insert_ignore(
        session,
        ChannelIdentity,
        {"channel": channel, "external_id": external_id, "created_at": now, "last_seen_at": now},
        conflict=["channel", "external_id"],
    )
    identity = await find_identity(session, channel=channel, external_id=external_id)
    assert identity is not None  # just inserted or already there
    return identity


async def bind_identity(
    session: AsyncSession, *, identity: ChannelIdentity, member: Member, now: datetime
) -> None:
    identity.member_id = member.id
    identity.bound_at = now
    await session.flush()


async def add_member(
    session: AsyncSession,
    *,
    member_no: str,
    phone_enc: str | None,
    phone_index: str | None,
    name_enc: str | None,
    birthday_enc: str | None,
    birthday_index: str | None,
    language: str,
    timezone: str,
    joined_at: datetime,
) -> Member:
    member = Member(
        member_no=member_no,
        phone_enc=phone_enc,
        phone_index=phone_index,
        name_enc=name_enc,
        birthday_enc=birthday_enc,
        birthday_index=birthday_index,
        language=language,
        timezone=timezone,
        joined_at=joined_at,
    )
    session.add(member)
    await session.flush()
    return member


async def count_members(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Member)) or 0)


async def identities_of(session: AsyncSession, *, member_id: int) -> list[ChannelIdentity]:
    result = await session.execute(
        select(ChannelIdentity)
        .where(ChannelIdentity.member_id == member_id)
        .order_by(ChannelIdentity.id)
    )
    return list(result.scalars())
