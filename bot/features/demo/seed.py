"""Demo data: members of every tier with realistic purchases and points, bound demo senders."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage import members as member_store
from bot.core.storage.models import Member
from bot.features.loyalty.ledger import add_purchase, add_transaction
from bot.features.loyalty.points import ADJUST, EARN, EXPIRE, REDEEM, lot_expiry
from bot.features.loyalty.service import member_standing
from bot.features.members.directory import Directory
from bot.features.privacy import requests
from bot.settings import Settings

DEMO_CHANNELS = ("web", "console")
# WeChat followers the demo binds (openids as the WeChat simulator's users have them).
DEMO_WECHAT_OPENIDS = {
    "demo-silver": "oKefuDemoSilver000000000001",
    "demo-gold": "oKefuDemoGold00000000000001",
    "demo-diamond": "oKefuDemoDiamond00000000001",
}


@dataclass(frozen=True, slots=True)
class DemoMember:
    member_no: str
    name: str
    phone: str
    birthday: date
    language: str
    timezone: str
    tenure_days: int
    # Purchases over the last year: how many, and the range of a receipt in yuan.
    purchases: int
    receipt: tuple[int, int]
    sender: str | None = None
    # Consents the demo records through the consent history: greetings, promotions (None:
    # the member never answered, so nothing proactive reaches them).
    consents: tuple[bool | None, bool | None] = (None, None)


DEMO_MEMBERS = (
    DemoMember("M000001", "王芳", "+8613800000001", date(1992, 3, 14), "zh-Hans",
               "Asia/Shanghai", 200, 6, (80, 400)),
    DemoMember("M000002", "李娜", "+8613800000002", date(1988, 7, 2), "zh-Hans",
               "Asia/Shanghai", 500, 16, (150, 300), "demo-silver", (True, False)),
    DemoMember("M000003", "张伟", "+8613800000003", date(1985, 11, 28), "zh-Hans",
               "Asia/Shanghai", 900, 34, (250, 450), "demo-gold", (True, True)),
    DemoMember("M000004", "陈静", "+8613800000004", date(1979, 1, 9), "zh-Hans",
               "Asia/Shanghai", 1500, 75, (450, 800), "demo-diamond", (False, True)),
    DemoMember("M000005", "劉嘉欣", "+85291234567", date(1995, 9, 21), "zh-Hant",
               "Asia/Hong_Kong", 400, 14, (200, 320)),
    DemoMember("M000006", "Emily Zhao", "+8613800000006", date(1990, 5, 5), "en",
               "Asia/Shanghai", 300, 9, (100, 260)),
)

STORES = ("sh-jingan", "sh-xujiahui", "bj-sanlitun", "gz-tianhe", "sz-futian")


@dataclass(frozen=True, slots=True)
class SeedReport:
    members_created: int
    members_total: int
    bound_senders: list[str]


async def seed_demo(
    session: AsyncSession, *, directory: Directory, settings: Settings, now: datetime
) -> SeedReport:
    """Creates what is missing; running it again changes nothing."""
    created = 0
    bound: list[str] = []
    lifetime = settings.membership.points.lot_lifetime_months
    for demo in DEMO_MEMBERS:
        member = await member_store.find_member_by_no(session, member_no=demo.member_no)
        if member is None:
            member = await directory.create(
                session,
                member_no=demo.member_no,
                phone=demo.phone,
                name=demo.name,
                birthday=demo.birthday,
                language=demo.language,
                timezone=demo.timezone,
                joined_at=now - timedelta(days=demo.tenure_days),
            )
            created += 1
        rng = random.Random(demo.member_no)
        # Receipts on distinct days over the last 350 days, plus one early this month last
        # year whose points lot lapses at the end of this month.
        days = rng.sample(range(1, 351), demo.purchases - 1)
        for index, days_ago in enumerate([0, *days]):
            if index == 0:
                when = _same_day_last_year(now)
            else:
                when = (now - timedelta(days=days_ago)).replace(
                    hour=rng.randint(2, 12), minute=0, second=0, microsecond=0)
            amount = Decimal(rng.randint(*demo.receipt)) + Decimal(rng.choice((0, 50))) / 100
            store = rng.choice(STORES)
            ref = f"demo:{demo.member_no}:receipt:{index}"
            await add_purchase(session, member_id=member.id, amount=amount, occurred_at=when,
                               store_code=store, external_ref=ref)
            rule = settings.tier(demo_tier_hint(demo))
            earned = int(amount * rule.points_per_yuan)
            await add_transaction(
                session, member_id=member.id, kind=EARN, points=earned, occurred_at=when,
                expires_on=lot_expiry(when.date(), lifetime), reason="",
                external_ref=ref)
        await _seed_spending(session, member_id=member.id, member_no=demo.member_no, now=now,
                             lifetime=lifetime)
        await member_standing(session, member=member, settings=settings, now=now)
        await _seed_consents(session, member=member, demo=demo, now=now)
        if demo.sender is not None:
            senders = [(channel, demo.sender) for channel in DEMO_CHANNELS]
            senders.append(("wechat", DEMO_WECHAT_OPENIDS[demo.sender]))
            for channel, sender in senders:
                identity = await member_store.ensure_identity(
                    session, channel=channel, external_id=sender, now=now)
                if identity.member_id is None:
                    await member_store.bind_identity(session, identity=identity, member=member,
                                                     now=now)
                bound.append(f"{channel}:{sender}")
    return SeedReport(created, await member_store.count_members(session), bound)


async def _seed_consents(session: AsyncSession, *, member: Member, demo: DemoMember,
                         now: datetime) -> None:
    """Records the demo member's answers once (a member with any history keeps it)."""
    if await requests.consent_history(session, member_id=member.id):
        return
    for kind, granted in zip(requests.CONSENT_KINDS, demo.consents, strict=True):
        if granted is not None:
            await requests.record_consent(session, member=member, kind=kind, granted=granted,
                                          source="demo", now=now - timedelta(days=30))


def demo_tier_hint(demo: DemoMember) -> str:
    by_sender = {"demo-silver": "silver", "demo-gold": "gold", "demo-diamond": "diamond"}
    return by_sender.get(demo.sender or "", "standard")


def _same_day_last_year(now: datetime) -> datetime:
    """A moment in this month last year: its lot expires at the end of this month."""
    return datetime(now.year - 1, now.month, 1, 4, 0, tzinfo=UTC)


async def _seed_spending(
    session: AsyncSession, *, member_id: int, member_no: str, now: datetime, lifetime: int
) -> None:
    """A redemption, a welcome bonus and, for older members, a lapsed lot written off."""
    welcome = now - timedelta(days=40)
    await add_transaction(session, member_id=member_id, kind=ADJUST, points=200,
                          occurred_at=welcome, expires_on=lot_expiry(welcome.date(), lifetime),
                          reason="", external_ref=f"demo:{member_no}:welcome")
    redeemed = now - timedelta(days=20)
    await add_transaction(session, member_id=member_id, kind=REDEEM, points=-300,
                          occurred_at=redeemed, reason="", external_ref=f"demo:{member_no}:redeem")
    old = datetime(now.year - 2, now.month, 10, 4, 0, tzinfo=UTC)
    await add_transaction(session, member_id=member_id, kind=EARN, points=150, occurred_at=old,
                          expires_on=lot_expiry(old.date(), lifetime), reason="",
                          external_ref=f"demo:{member_no}:old-lot")
    lapsed_on = lot_expiry(old.date(), lifetime) + timedelta(days=1)
    await add_transaction(
        session, member_id=member_id, kind=EXPIRE, points=-150,
        occurred_at=datetime.combine(lapsed_on, datetime.min.time(), tzinfo=UTC),
        reason="", external_ref=f"demo:{member_no}:old-lot-expired")
