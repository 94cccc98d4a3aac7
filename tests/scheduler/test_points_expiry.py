from datetime import date, timedelta

from sqlalchemy import select

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.core.storage.models import PointTransaction
from bot.features.loyalty.service import member_standing
from scheduler.jobs import POINTS_EXPIRY, RETENTION_PURGE, all_jobs
from scheduler.points_expiry import write_off_lapsed_points
from tests.conftest import FIXED_NOW
from tests.factories import create_member, earn


async def test_lapsed_lots_are_written_off_once(kefu: Kefu) -> None:
    async with transaction(kefu.sessions) as session:
        member = await create_member(session, kefu)
        await earn(session, member, 120, days_ago=400)   # lapsed last month
        await earn(session, member, 80, days_ago=30)     # still valid
    for _ in range(2):  # a second run (or a second process) writes nothing more
        written = await write_off_lapsed_points(sessions=kefu.sessions,
                                                settings=kefu.settings, clock=lambda: FIXED_NOW)
        assert written in (0, 1)
    async with kefu.sessions() as session:
        rows = list((await session.execute(select(PointTransaction).where(
            PointTransaction.kind == "expire"))).scalars())
        standing = await member_standing(session, member=member, settings=kefu.settings,
                                         now=FIXED_NOW)
    assert [(r.points, r.external_ref) for r in rows] == [(-120, "expire:2026-10-31")]
    lapse_local = rows[0].occurred_at.astimezone(standing.zone)
    assert lapse_local.date() == date(2026, 11, 1) and lapse_local.hour == 0
    assert standing.points.balance == 80
    assert standing.points.expired == 120


async def test_every_job_has_an_id_and_a_trigger(kefu: Kefu) -> None:
    registered = {job.id: job for job in all_jobs(kefu.settings)}
    assert {POINTS_EXPIRY, RETENTION_PURGE} <= set(registered)
    next_run = registered[POINTS_EXPIRY].schedule.trigger().get_next_fire_time(None, FIXED_NOW)
    assert next_run - FIXED_NOW < timedelta(days=1)
