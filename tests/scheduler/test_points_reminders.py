"""Points reminders N days before a lot lapses: once per lot and channel, amount and day."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.app import Kefu
from bot.app_proactive import planner_for
from bot.core.storage.db import transaction
from bot.core.storage.models import OutboxMessage
from bot.features.proactive.live import LiveProactive
from scheduler.points_reminders import remind_expiring_points
from tests.factories import earn
from tests.proactive.helpers import reachable_member


async def test_a_lapsing_lot_is_told_once_with_its_amount_and_day(kefu: Kefu) -> None:
    member = await reachable_member(kefu)
    silent = await reachable_member(kefu, greetings=False)
    async with transaction(kefu.sessions) as session:
        # Earned 2025-11-13 → valid through 2026-11-30; the other lot through 2027-10-31.
        await earn(session, member, 320, days_ago=375)
        await earn(session, member, 50, days_ago=30)
        await earn(session, silent, 320, days_ago=375)
    planner = planner_for(kefu, LiveProactive(kefu.settings.proactive, None))

    async def run(moment: datetime) -> int:
        return await remind_expiring_points(sessions=kefu.sessions, planner=planner,
                                            clock=lambda: moment)

    assert await run(datetime(2026, 11, 22, 3, 0, tzinfo=UTC)) == 0   # 8 days before
    assert await run(datetime(2026, 11, 23, 1, 0, tzinfo=UTC)) == 0   # 09:00, before 10:00
    assert await run(datetime(2026, 11, 23, 3, 0, tzinfo=UTC)) == 1   # 7 days before
    assert await run(datetime(2026, 11, 24, 3, 0, tzinfo=UTC)) == 0   # told already
    async with kefu.sessions() as session:
        rows = list((await session.execute(select(OutboxMessage))).scalars())
    assert [(r.purpose, r.dedupe_key) for r in rows] == [
        ("points_reminder", f"lapse:{member.id}:2026-11-30:web")]
    assert "320 积分" in rows[0].payload["text"]
    assert "2026年11月30日" in rows[0].payload["text"]
