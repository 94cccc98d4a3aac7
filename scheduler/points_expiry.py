"""Writes off points whose lot has lapsed, so the ledger says what the balance already knows."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.storage.models import Member
from bot.features.loyalty.ledger import add_transaction, ledger_entries
from bot.features.loyalty.points import EXPIRE, summarise
from bot.features.loyalty.service import member_zone
from bot.settings import Settings

log = logging.getLogger(__name__)
BATCH = 200


async def write_off_lapsed_points(
    *, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    clock: Callable[[], datetime],
) -> int:
    """One expire entry per member and expiry day; idempotent (keyed by that day), so running
    it twice or in two processes writes nothing twice. Returns the entries written."""
    written = 0
    last_id = 0
    while True:
        async with sessions() as session, session.begin():
            members = list((await session.execute(
                select(Member).where(Member.id > last_id).order_by(Member.id).limit(BATCH)
            )).scalars())
            if not members:
                return written
            for member in members:
                written += await _write_off(session, member, settings, clock())
            last_id = members[-1].id


async def _write_off(session: AsyncSession, member: Member, settings: Settings,
                     now: datetime) -> int:
    zone = member_zone(member, settings)
    today = now.astimezone(zone).date()
    summary = summarise(await ledger_entries(session, member_id=member.id, zone=zone),
                        today=today)
    by_day: dict[date, int] = defaultdict(int)
    for lot in summary.lapsed:
        by_day[lot.expires_on] += lot.remaining
    written = 0
    for expired_on, amount in sorted(by_day.items()):
        lapse = datetime.combine(expired_on + timedelta(days=1), time(), tzinfo=zone)
        added = await add_transaction(
            session, member_id=member.id, kind=EXPIRE, points=-amount, occurred_at=lapse,
            reason="", external_ref=f"expire:{expired_on}")
        written += added is not None
    return written
