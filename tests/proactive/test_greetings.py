"""The greeting job with the clock in hand: local hours, zones, quiet hours, exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import Kefu
from bot.app_proactive import planner_for
from bot.core.storage.db import transaction
from bot.core.storage.models import ChannelIdentity, OutboxMessage
from bot.features.proactive.greetings import NO_CHANNEL, NO_CONSENT, Planner
from bot.features.proactive.live import LiveProactive
from bot.features.proactive.settings import OccasionSetting, ProactiveSettings
from scheduler.greetings import send_greetings
from scheduler.jobs import GREETINGS, all_jobs
from tests.proactive.helpers import reachable_member


def fixed(settings: ProactiveSettings) -> LiveProactive:
    return LiveProactive(settings, None)


async def queued(kefu: Kefu) -> list[OutboxMessage]:
    async with kefu.sessions() as session:
        return list((await session.execute(
            select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def run_at(kefu: Kefu, planner: Planner, moment: datetime) -> int:
    return await send_greetings(sessions=kefu.sessions, planner=planner, clock=lambda: moment)


async def test_spring_festival_reaches_only_members_who_consented(kefu: Kefu) -> None:
    yes = await reachable_member(kefu, language="en", name="Alice Chen")
    never = await reachable_member(kefu, greetings=None)
    declined = await reachable_member(kefu, greetings=False)
    gone = await reachable_member(kefu)
    async with transaction(kefu.sessions) as session:
        identity = await session.scalar(select(ChannelIdentity).where(
            ChannelIdentity.member_id == gone.id))
        assert identity is not None
        identity.unsubscribed_at = datetime(2027, 1, 1, tzinfo=UTC)
    planner = planner_for(kefu, fixed(kefu.settings.proactive))
    async with kefu.sessions() as session:
        plan = {g.member.id: g for g in await planner.plan(session, date(2027, 2, 6))}
    assert {g.occasion for g in plan.values()} == {"spring_festival"}
    assert plan[yes.id].skipped is None and plan[yes.id].channel == "web"
    assert plan[yes.id].text.startswith("Happy Chinese New Year, Alice Chen!")
    assert plan[never.id].skipped == NO_CONSENT
    assert plan[declined.id].skipped == NO_CONSENT
    assert plan[gone.id].skipped == NO_CHANNEL


async def test_birthday_greeting_goes_once_at_the_local_hour_in_each_zone(kefu: Kefu) -> None:
    gold_born = date(1990, 3, 14)
    shanghai = await reachable_member(kefu, birthday=gold_born, name="王芳")
    new_york = await reachable_member(kefu, birthday=gold_born, timezone="America/New_York")
    planner = planner_for(kefu, fixed(kefu.settings.proactive))
    # 09:59 in Shanghai on the birthday: too early.
    assert await run_at(kefu, planner, datetime(2027, 3, 14, 1, 59, tzinfo=UTC)) == 0
    # 10:00 in Shanghai: Shanghai is greeted; New York's 14 March has not begun.
    assert await run_at(kefu, planner, datetime(2027, 3, 14, 2, 0, tzinfo=UTC)) == 1
    assert await run_at(kefu, planner, datetime(2027, 3, 14, 2, 5, tzinfo=UTC)) == 0
    # 10:00 in New York (EDT, UTC-4), one more; a rerun adds nothing.
    assert await run_at(kefu, planner, datetime(2027, 3, 14, 14, 0, tzinfo=UTC)) == 1
    assert await run_at(kefu, planner, datetime(2027, 3, 14, 14, 0, tzinfo=UTC)) == 0
    rows = await queued(kefu)
    assert [r.dedupe_key for r in rows] == [f"greet:birthday:{shanghai.id}:2027-03-14",
                                            f"greet:birthday:{new_york.id}:2027-03-14"]
    assert rows[0].purpose == "greeting" and rows[0].channel == "web"
    # The standard tier's birthday text with the name and the benefit from config.yml.
    assert rows[0].payload["text"].startswith("王芳，生日快乐！")
    assert "生日当月消费享双倍积分" in rows[0].payload["text"]


async def test_a_rerun_after_losing_the_done_marker_queues_nothing_twice(kefu: Kefu) -> None:
    from bot.core.storage.models import KeyValue

    await reachable_member(kefu, birthday=date(1990, 3, 14))
    planner = planner_for(kefu, fixed(kefu.settings.proactive))
    moment = datetime(2027, 3, 14, 3, 0, tzinfo=UTC)
    assert await run_at(kefu, planner, moment) == 1
    async with transaction(kefu.sessions) as session:  # as if the marker never committed
        for row in (await session.execute(select(KeyValue))).scalars():
            await session.delete(row)
    assert await run_at(kefu, planner, moment) == 0
    assert len(await queued(kefu)) == 1


async def test_29_february_birthdays_are_greeted_on_28_february_in_common_years(
        kefu: Kefu) -> None:
    leap = await reachable_member(kefu, birthday=date(2000, 2, 29))
    planner = planner_for(kefu, fixed(kefu.settings.proactive))
    assert await run_at(kefu, planner, datetime(2027, 2, 28, 3, 0, tzinfo=UTC)) == 1
    assert await run_at(kefu, planner, datetime(2028, 2, 28, 3, 0, tzinfo=UTC)) == 0
    assert await run_at(kefu, planner, datetime(2028, 2, 29, 3, 0, tzinfo=UTC)) == 1
    assert [r.dedupe_key for r in await queued(kefu)] == [
        f"greet:birthday:{leap.id}:2027-02-28", f"greet:birthday:{leap.id}:2028-02-29"]


async def test_a_greeting_due_in_quiet_hours_waits_for_the_morning(kefu: Kefu) -> None:
    await reachable_member(kefu, birthday=date(1990, 3, 14))
    late = kefu.settings.proactive.model_copy(update={"send_at": time(22, 0)})
    planner = planner_for(kefu, fixed(late))
    moment = datetime(2027, 3, 14, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
    assert await run_at(kefu, planner, moment) == 1
    row = (await queued(kefu))[0]
    assert row.next_attempt_at == datetime(2027, 3, 15, 1, 0, tzinfo=UTC)  # 09:00 local


async def test_an_invalid_zone_or_no_birthday_is_skipped_and_the_rest_goes_on(
        kefu: Kefu) -> None:
    await reachable_member(kefu, birthday=date(1990, 3, 14), timezone="Mars/Olympus")
    await reachable_member(kefu, birthday=None)
    fine = await reachable_member(kefu, birthday=date(1990, 3, 14))
    planner = planner_for(kefu, fixed(kefu.settings.proactive))
    assert await run_at(kefu, planner, datetime(2027, 3, 14, 3, 0, tzinfo=UTC)) == 1
    assert [r.dedupe_key for r in await queued(kefu)] == [
        f"greet:birthday:{fine.id}:2027-03-14"]
    async with kefu.sessions() as session:
        plan = await planner.plan(session, date(2027, 3, 14))
    assert sorted(g.skipped or "" for g in plan) == ["", "invalid time zone 'Mars/Olympus'"]


async def test_config_edits_apply_without_a_restart(kefu: Kefu, tmp_path: Path) -> None:
    import yaml

    from tests.conftest import ROOT

    await reachable_member(kefu)
    config = tmp_path / "config.yml"
    raw: dict[str, Any] = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    live = LiveProactive(kefu.settings.proactive, config)
    planner = planner_for(kefu, live)
    day = date(2027, 9, 15)
    async with kefu.sessions() as session:
        assert [g.occasion for g in await planner.plan(session, day)] == ["mid_autumn"]
    raw["proactive"]["occasions"] = {"mid_autumn": {"text": {"zh-Hans": "{name}，月饼管够"}}}
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    _touch_later(config)
    async with kefu.sessions() as session:
        assert [g.text for g in await planner.plan(session, day)] == ["测试会员，月饼管够"]
    raw["proactive"]["occasions"] = {"mid_autumn": {"text": {"zh-Hans": "{nickname}"}}}
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    _touch_later(config)
    async with kefu.sessions() as session:  # an invalid edit keeps the last good settings
        assert [g.text for g in await planner.plan(session, day)] == ["测试会员，月饼管够"]
    raw["proactive"]["occasions"] = {"mid_autumn": OccasionSetting(enabled=False).model_dump()}
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    _touch_later(config)
    async with kefu.sessions() as session:
        assert await planner.plan(session, day) == []


def _touch_later(path: Path) -> None:
    import os

    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 1))


async def test_the_greeting_job_is_registered_as_a_coroutine(kefu: Kefu) -> None:
    import inspect

    registered = {job.id: job for job in all_jobs(kefu.settings)}
    assert inspect.iscoroutinefunction(registered[GREETINGS].run)


async def test_bulk_reachability_follows_the_same_rules_as_may_send(kefu: Kefu) -> None:
    from bot.core.storage import selfservice
    from bot.features.proactive import store
    from bot.features.proactive.greetings import may_reach
    from handlers.preferences import may_send
    from tests.conftest import FIXED_NOW

    members = [await reachable_member(kefu, promotions=p) for p in (True, True, True, False)]
    async with transaction(kefu.sessions) as session:
        identities = await store.identities_by_member(session, member_ids=[m.id for m in
                                                                           members])
        _first, second, third = (identities[m.id][0] for m in members[:3])
        second.unsubscribed_at = FIXED_NOW
        await selfservice.opt_out(session, identity_id=third.id, topic="promotions",
                                  now=FIXED_NOW)
    async with kefu.sessions() as session:
        identities = await store.identities_by_member(session, member_ids=[m.id for m in
                                                                           members])
        opted = await store.opt_outs(session, identity_ids=[i[0].id for i in
                                                            identities.values()])
        for member in members:
            fresh = await session.get(type(member), member.id)
            assert fresh is not None
            identity = identities[member.id][0]
            for topic in ("greetings", "promotions"):
                assert may_reach(identity, fresh, topic, opted) == await may_send(
                    session, identity=identity, member=fresh, topic=topic), (member.id, topic)
