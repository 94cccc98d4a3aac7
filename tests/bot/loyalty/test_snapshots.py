"""Snapshots of long ledgers: the balance read from one equals a full replay, always."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.core.storage.models import Member
from bot.core.storage.models_loyalty import PointsSnapshot
from bot.features.loyalty import service
from bot.features.loyalty.ledger import ledger_entries
from bot.features.loyalty.points import summarise
from tests.conftest import FIXED_NOW
from tests.factories import create_member, earn


async def _both(kefu: Kefu, member_id: int) -> tuple[int, int]:
    async with transaction(kefu.sessions) as session:
        member = await session.get(Member, member_id)
        assert member is not None
        standing = await service.member_standing(session, member=member,
                                                 settings=kefu.settings, now=FIXED_NOW)
        full = summarise(await ledger_entries(session, member_id=member_id,
                                              zone=standing.zone), today=standing.today)
        return standing.points.balance, full.balance


async def test_snapshot_then_new_and_backdated_entries(
        kefu: Kefu, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.features.loyalty.ledger import add_transaction
    from bot.features.loyalty.points import REDEEM

    monkeypatch.setattr(service, "SNAPSHOT_AFTER", 5)
    async with transaction(kefu.sessions) as session:
        member = await create_member(session, kefu)
        for day in range(40, 20, -1):
            await earn(session, member, 100, days_ago=day)
    assert await _both(kefu, member.id) == (2000, 2000)
    async with kefu.sessions() as session:
        snapshot = (await session.execute(select(PointsSnapshot))).scalar_one()
        assert snapshot.entries == 20
    async with transaction(kefu.sessions) as session:  # newer: read on top of the snapshot
        await add_transaction(session, member_id=member.id, kind=REDEEM, points=-150,
                              occurred_at=FIXED_NOW - timedelta(days=1), external_ref="r1")
    assert await _both(kefu, member.id) == (1850, 1850)
    async with transaction(kefu.sessions) as session:  # backdated: the snapshot is stale
        await add_transaction(session, member_id=member.id, kind=REDEEM, points=-1900,
                              occurred_at=FIXED_NOW - timedelta(days=30), external_ref="r0")
    assert await _both(kefu, member.id) == (-50, -50)
