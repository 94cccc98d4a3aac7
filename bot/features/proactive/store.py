"""Data functions of proactive sends (keyword-only): who, on which identity, done markers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models import ChannelIdentity, KeyValue, Member
from bot.core.storage.models_selfservice import ChannelOptOut
from bot.core.storage.upsert import upsert


async def member_zones(session: AsyncSession) -> list[str]:
    """The time zones members live in (as stored, valid or not)."""
    result = await session.execute(
        select(Member.timezone).where(Member.erased_at.is_(None)).distinct())
    return sorted(result.scalars())


async def members(session: AsyncSession, *, zone: str | None = None,
                  ids: Iterable[int] | None = None) -> list[Member]:
    """Members not erased, of one zone or of the given ids, in id order."""
    statement = select(Member).where(Member.erased_at.is_(None)).order_by(Member.id)
    if zone is not None:
        statement = statement.where(Member.timezone == zone)
    if ids is not None:
        statement = statement.where(Member.id.in_(list(ids)))
    return list((await session.execute(statement)).scalars())


async def identities_by_member(
    session: AsyncSession, *, member_ids: Iterable[int]
) -> dict[int, list[ChannelIdentity]]:
    wanted = list(set(member_ids))
    found: dict[int, list[ChannelIdentity]] = defaultdict(list)
    for start in range(0, len(wanted), 500):
        result = await session.execute(
            select(ChannelIdentity)
            .where(ChannelIdentity.member_id.in_(wanted[start:start + 500]))
            .order_by(ChannelIdentity.last_seen_at.desc(), ChannelIdentity.id))
        for identity in result.scalars():
            assert identity.member_id is not None
            found[identity.member_id].append(identity)
    return found


async def is_marked(session: AsyncSession, *, key: str) -> bool:
    return await session.get(KeyValue, key) is not None


async def mark_done(session: AsyncSession, *, key: str, now: datetime) -> None:
    """Records that a whole pass (one zone's greetings of one day) finished."""
    await upsert(session, KeyValue, {"key": key, "value": now.isoformat(), "expires_at": None},
                 conflict=["key"])


async def opt_outs(session: AsyncSession, *, identity_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(identity id, topic) of every per-channel opt-out among ``identity_ids``."""
    wanted = list(set(identity_ids))
    found: set[tuple[int, str]] = set()
    for start in range(0, len(wanted), 500):
        result = await session.execute(
            select(ChannelOptOut.identity_id, ChannelOptOut.topic)
            .where(ChannelOptOut.identity_id.in_(wanted[start:start + 500])))
        found.update((identity_id, topic) for identity_id, topic in result.all())
    return found
