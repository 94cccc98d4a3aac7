"""Campaigns: segments, refusals, exactly-once expansion across a crash, status, cancel."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.app import Kefu
from bot.app_proactive import planner_for
from bot.core.storage.db import transaction
from bot.core.storage.models import Member, OutboxMessage
from bot.core.storage.models_proactive import CampaignRecipient
from bot.features.loyalty.ledger import add_purchase
from bot.features.proactive import campaigns
from bot.features.proactive.campaigns import CampaignError
from bot.features.proactive.live import LiveProactive
from bot.features.proactive.segments import Segment, select_members
from bot.outbox import store as outbox
from scheduler.campaigns import send_due_campaigns
from scheduler.jobs import CAMPAIGNS, all_jobs
from tests.conftest import FIXED_NOW
from tests.factories import earn
from tests.proactive.helpers import reachable_member

NOW = FIXED_NOW  # 14:00 in Shanghai
TEXT = {"zh-Hans": "{name}，{tier}专享：周末 8 折", "en": "{name}: 20% off for {tier}"}


def planner(kefu: Kefu):  # type: ignore[no-untyped-def]
    return planner_for(kefu, LiveProactive(kefu.settings.proactive, None))


async def set_tier(kefu: Kefu, member: Member, tier: str) -> None:
    async with transaction(kefu.sessions) as session:
        fresh = await session.get(Member, member.id)
        assert fresh is not None
        fresh.tier = tier


async def bought(kefu: Kefu, member: Member, store: str, day: date) -> None:
    async with transaction(kefu.sessions) as session:
        await add_purchase(session, member_id=member.id, amount=Decimal("100.00"),
                           occurred_at=datetime(day.year, day.month, day.day, 4, tzinfo=UTC),
                           store_code=store, external_ref=f"{member.id}-{day}-{store}")


async def matching(kefu: Kefu, **filters: object) -> set[int]:
    async with kefu.sessions() as session:
        found = await select_members(session, Segment.model_validate(filters),
                                     settings=kefu.settings, directory=kefu.directory,
                                     today=NOW.date())
    return {m.id for m in found}


async def test_segment_filters(kefu: Kefu) -> None:
    a = await reachable_member(kefu, birthday=date(1990, 3, 14), language="en")
    b = await reachable_member(kefu, birthday=date(1991, 4, 1), channel="telegram")
    c = await reachable_member(kefu, birthday=None)
    await set_tier(kefu, a, "gold")
    await bought(kefu, a, "bj-sanlitun", date(2026, 1, 5))
    await bought(kefu, a, "sh-jingan", date(2026, 10, 1))   # a's latest: Shanghai
    await bought(kefu, b, "bj-sanlitun", date(2026, 6, 1))
    async with transaction(kefu.sessions) as session:
        await earn(session, c, 900)
    assert await matching(kefu, tiers=["gold"]) == {a.id}
    assert await matching(kefu, cities=["上海"]) == {a.id}
    assert await matching(kefu, cities=["Beijing"]) == {b.id}
    assert await matching(kefu, stores=["bj-sanlitun"]) == {b.id}
    assert await matching(kefu, birthday_month=3) == {a.id}
    assert await matching(kefu, last_purchase_before=date(2026, 7, 1)) == {b.id}
    assert await matching(kefu, last_purchase_after=date(2026, 7, 1)) == {a.id}
    assert await matching(kefu, min_points=500) == {c.id}
    assert await matching(kefu, max_points=0) == {a.id, b.id}
    assert await matching(kefu, channels=["telegram"]) == {b.id}
    assert await matching(kefu, languages=["en"]) == {a.id}
    assert await matching(kefu) == {a.id, b.id, c.id}


@pytest.mark.parametrize(("texts", "send_at", "segment", "message"), [
    (TEXT, None, {"tiers": ["diamond"]}, "matches no member"),
    ({"zh-Hans": "{name} 领取 {coupon}"}, None, {}, "unknown template variable(s) {coupon}"),
    (TEXT, NOW - timedelta(hours=1), {}, "is in the past"),
    (TEXT, None, {"stores": ["nowhere"]}, "unknown store 'nowhere'"),
    ({}, None, {}, "needs a text"),
])
async def test_bad_campaigns_are_refused_with_the_reason(
        kefu: Kefu, texts: dict[str, str], send_at: datetime | None,
        segment: dict[str, object], message: str) -> None:
    await reachable_member(kefu, promotions=True)
    async with kefu.sessions() as session:
        with pytest.raises(CampaignError, match=message.replace("(", r"\(").replace(
                ")", r"\)").replace("{", r"\{").replace("}", r"\}")):
            await campaigns.create(session, planner(kefu), name="x",
                                   segment=Segment.model_validate(segment), texts=texts,
                                   now=NOW, send_at=send_at, actor="test")


async def test_a_gold_campaign_reaches_each_gold_member_once_across_a_crash(
        kefu: Kefu) -> None:
    gold = [await reachable_member(kefu, promotions=True, name=f"金{i}") for i in range(5)]
    no_consent = await reachable_member(kefu, promotions=None)
    declined = await reachable_member(kefu, promotions=False)
    silver = await reachable_member(kefu, promotions=True)
    for member in [*gold, no_consent, declined]:
        await set_tier(kefu, member, "gold")
    await set_tier(kefu, silver, "silver")
    the_planner = planner(kefu)
    async with transaction(kefu.sessions) as session:
        campaign, seen = await campaigns.create(
            session, the_planner, name="金卡周末", segment=Segment(tiers=["gold"]), texts=TEXT,
            now=NOW, send_at=NOW + timedelta(hours=1), actor="test")
    assert (seen.matched, seen.reachable) == (7, 5)
    assert seen.skipped == {campaigns.NO_CONSENT: 2}
    # Not due yet.
    assert await send_due_campaigns(sessions=kefu.sessions, planner=the_planner,
                                    clock=lambda: NOW, batch=2) == 0
    later = NOW + timedelta(hours=1)
    # A crash in the middle of a batch: its transaction never commits.
    async with kefu.sessions() as session:
        await session.begin()
        assert await campaigns.expand_batch(session, the_planner, campaign_id=campaign.id,
                                            now=later, batch=2) == 2
        await session.rollback()
    # One batch commits, then the process "dies" and a fresh run finishes the campaign.
    async with transaction(kefu.sessions) as session:
        assert await campaigns.expand_batch(session, the_planner, campaign_id=campaign.id,
                                            now=later, batch=2) == 2
    assert await send_due_campaigns(sessions=kefu.sessions, planner=the_planner,
                                    clock=lambda: later, batch=2) == 5
    assert await send_due_campaigns(sessions=kefu.sessions, planner=the_planner,
                                    clock=lambda: later, batch=2) == 0
    async with kefu.sessions() as session:
        rows = list((await session.execute(select(OutboxMessage).where(
            OutboxMessage.purpose == "campaign").order_by(OutboxMessage.id))).scalars())
        recipients = await session.scalar(select(func.count()).select_from(CampaignRecipient))
        state = await campaigns.status(session, campaign_id=campaign.id)
    assert sorted(r.identity_id for r in rows) == sorted(
        {r.identity_id for r in rows})  # one message per member
    assert len(rows) == 5 and recipients == 7
    assert rows[0].payload["text"] == "金0，金卡会员专享：周末 8 折"
    assert state is not None and state.campaign.status == campaigns.DONE
    assert (state.pending, state.skipped, state.sent) == (5, 2, 0)
    assert state.reasons == {campaigns.NO_CONSENT: 2}
    # One is sent, one fails on the platform: status says so, with the reason.
    async with transaction(kefu.sessions) as session:
        await outbox.mark_sent(session, outbox_id=rows[0].id, now=later)
        await outbox.mark_failed(session, outbox_id=rows[1].id,
                                 reason="telegram 403: bot was blocked by the user")
    async with transaction(kefu.sessions) as session:
        await campaigns.cancel(session, campaign_id=campaign.id, now=later)
    async with kefu.sessions() as session:
        state = await campaigns.status(session, campaign_id=campaign.id)
    assert state is not None and state.campaign.status == campaigns.CANCELLED
    assert (state.sent, state.failed, state.pending, state.skipped) == (1, 4, 0, 2)
    assert state.reasons == {campaigns.NO_CONSENT: 2, "campaign cancelled": 3,
                             "telegram 403: bot was blocked by the user": 1}


async def test_a_campaign_in_quiet_hours_waits_for_the_morning(kefu: Kefu) -> None:
    member = await reachable_member(kefu, promotions=True)
    evening = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai
    the_planner = planner(kefu)
    async with transaction(kefu.sessions) as session:
        await campaigns.create(session, the_planner, name="晚间", segment=Segment(),
                               texts=TEXT, now=evening, send_at=None, actor="test")
    assert await send_due_campaigns(sessions=kefu.sessions, planner=the_planner,
                                    clock=lambda: evening) == 1
    async with kefu.sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(
            OutboxMessage.identity_id.is_not(None)))
    assert row is not None and row.dedupe_key is not None
    assert row.dedupe_key.endswith(f":{member.id}")
    assert row.next_attempt_at == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


async def test_the_campaign_job_is_registered_as_a_coroutine(kefu: Kefu) -> None:
    import inspect

    assert inspect.iscoroutinefunction({j.id: j for j in all_jobs(kefu.settings)}[CAMPAIGNS].run)
