"""A member's standing now: tier from recent activity, and points from the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models import Member
from bot.features.loyalty.ledger import (
    count_entries_through,
    get_snapshot,
    ledger_entries,
    purchase_totals,
    save_snapshot,
)
from bot.features.loyalty.points import PointsSummary, Replay, sort_key
from bot.features.loyalty.settings import LoyaltyConfig
from bot.features.loyalty.tiers import (
    Activity,
    UpgradeGap,
    evaluate_tier,
    months_between,
    upgrade_gap,
)

# A replay of more new entries than this is kept as the member's snapshot.
SNAPSHOT_AFTER = 200


@dataclass(frozen=True, slots=True)
class MemberStanding:
    member: Member
    tier: str
    activity: Activity
    points: PointsSummary
    gap: UpgradeGap | None
    today: date
    zone: ZoneInfo


def member_zone(member: Member, settings: LoyaltyConfig) -> ZoneInfo:
    try:
        return ZoneInfo(member.timezone or settings.app.default_timezone)
    except (KeyError, ValueError):
        return ZoneInfo(settings.app.default_timezone)


def window_start(today: date, months: int, zone: ZoneInfo) -> datetime:
    """Midnight (member's zone) of the same day ``months`` earlier: the rolling window start."""
    month_index = today.month - 1 - months
    year, month = today.year + month_index // 12, month_index % 12 + 1
    day = today.day
    while True:
        try:
            start = date(year, month, day)
            break
        except ValueError:
            day -= 1
    return datetime.combine(start + timedelta(days=1), datetime.min.time(), tzinfo=zone)


async def points_summary(
    session: AsyncSession, *, member_id: int, zone: ZoneInfo, today: date, now: datetime
) -> PointsSummary:
    """The ledger replayed: from the member's snapshot when it still holds, so a long ledger
    costs only its newest entries; the snapshot is renewed once many entries are new."""
    snapshot = await get_snapshot(session, member_id=member_id)
    if (snapshot is not None and snapshot.zone == zone.key
            and await count_entries_through(session, member_id=member_id,
                                            through=snapshot.through_at) == snapshot.entries):
        replay = Replay.from_data(snapshot.state)
        newer = await ledger_entries(session, member_id=member_id, zone=zone,
                                     after=snapshot.through_at)
        replay.apply(sorted(newer, key=sort_key))
        total = snapshot.entries + len(newer)
    else:
        newer = await ledger_entries(session, member_id=member_id, zone=zone)
        replay = Replay()
        replay.apply(sorted(newer, key=sort_key))
        total = len(newer)
    if len(newer) >= SNAPSHOT_AFTER and newer[-1].occurred_at is not None:
        await save_snapshot(session, member_id=member_id, zone=zone.key,
                            through_at=max(e.occurred_at for e in newer if e.occurred_at),
                            entries=total, state=replay.as_data(), now=now)
    return replay.summary(today=today)


async def member_points(
    session: AsyncSession, *, member: Member, settings: LoyaltyConfig, now: datetime
) -> tuple[PointsSummary, date]:
    """The member's points and today's date in their zone, without their tier: a balance
    or expiry question reads only the ledger, not a year of purchases."""
    zone = member_zone(member, settings)
    today = now.astimezone(zone).date()
    return (await points_summary(session, member_id=member.id, zone=zone, today=today,
                                 now=now), today)


async def tier_at(
    session: AsyncSession, *, member: Member, settings: LoyaltyConfig, moment: datetime
) -> str:
    """The tier the member had at ``moment``: from their activity in the window before it."""
    zone = member_zone(member, settings)
    day = moment.astimezone(zone).date()
    membership = settings.membership
    since = window_start(day, membership.qualification_window_months, zone)
    spend, visits = await purchase_totals(session, member_id=member.id, since=since, zone=zone,
                                          until=moment)
    activity = Activity(
        spend=spend,
        visits=visits,
        tenure_months=months_between(member.joined_at.astimezone(zone).date(), day),
    )
    return evaluate_tier(membership.tiers, activity)


async def member_standing(
    session: AsyncSession, *, member: Member, settings: LoyaltyConfig, now: datetime
) -> MemberStanding:
    """Computes the tier and points; stores the tier on the member when it changed."""
    zone = member_zone(member, settings)
    today = now.astimezone(zone).date()
    membership = settings.membership
    since = window_start(today, membership.qualification_window_months, zone)
    spend, visits = await purchase_totals(session, member_id=member.id, since=since, zone=zone)
    activity = Activity(
        spend=spend,
        visits=visits,
        tenure_months=months_between(member.joined_at.astimezone(zone).date(), today),
    )
    tier = evaluate_tier(membership.tiers, activity)
    if member.tier != tier:
        member.tier = tier
        await session.flush()
    return MemberStanding(
        member=member,
        tier=tier,
        activity=activity,
        points=await points_summary(session, member_id=member.id, zone=zone, today=today,
                                    now=now),
        gap=upgrade_gap(membership.tiers, tier, activity),
        today=today,
        zone=zone,
    )
