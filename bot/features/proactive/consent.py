"""Consent as the consent history records it: the latest event of a kind decides."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.security_models import ConsentEvent

GREETINGS, PROMOTIONS = "greetings", "promotions"


async def consenting(session: AsyncSession, *, member_ids: Iterable[int], kind: str) -> set[int]:
    """Those of ``member_ids`` whose latest ``kind`` consent event grants it. A member with
    no event has not consented, whatever the member row's default says."""
    wanted = list(set(member_ids))
    if not wanted:
        return set()
    granted: set[int] = set()
    for start in range(0, len(wanted), 500):  # stay well under bind-parameter limits
        chunk = wanted[start:start + 500]
        latest = (select(ConsentEvent.member_id, func.max(ConsentEvent.id).label("last_id"))
                  .where(ConsentEvent.member_id.in_(chunk), ConsentEvent.kind == kind)
                  .group_by(ConsentEvent.member_id).subquery())
        rows = await session.execute(
            select(ConsentEvent.member_id)
            .join(latest, ConsentEvent.id == latest.c.last_id)
            .where(ConsentEvent.granted.is_(True)))
        granted.update(rows.scalars())
    return granted
