"""Builders for test data: members with purchases and points, bound identities."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Kefu
from bot.core.storage import members as member_store
from bot.core.storage.db import transaction
from bot.core.storage.models import Member
from bot.features.loyalty.ledger import add_purchase, add_transaction
from bot.features.loyalty.points import EARN, lot_expiry
from tests.conftest import FIXED_NOW


async def create_member(
    session: AsyncSession,
    kefu: Kefu,
    *,
    member_no: str = "M100001",
    phone: str | None = "+8613900000001",
    name: str | None = "测试会员",
    language: str = "zh-Hans",
    timezone: str = "Asia/Shanghai",
    joined_days_ago: int = 400,
    birthday: date | None = None,
) -> Member:
    return await kefu.directory.create(
        session, member_no=member_no, phone=phone, name=name, birthday=birthday,
        language=language, timezone=timezone,
        joined_at=FIXED_NOW - timedelta(days=joined_days_ago))


async def earn(
    session: AsyncSession, member: Member, points: int, *, days_ago: int = 10,
    lifetime_months: int = 12, ref: str | None = None,
) -> None:
    when = FIXED_NOW - timedelta(days=days_ago)
    await add_transaction(session, member_id=member.id, kind=EARN, points=points,
                          occurred_at=when, expires_on=lot_expiry(when.date(), lifetime_months),
                          external_ref=ref or f"earn-{member.member_no}-{days_ago}-{points}")


async def purchase(
    session: AsyncSession, member: Member, amount: str, *, days_ago: int = 10,
    ref: str | None = None,
) -> None:
    await add_purchase(session, member_id=member.id, amount=Decimal(amount),
                       occurred_at=FIXED_NOW - timedelta(days=days_ago),
                       external_ref=ref or f"p-{member.member_no}-{days_ago}-{amount}")


async def bound_member(
    kefu: Kefu, *, channel: str = "web", sender: str = "alice", points: int = 1200,
    member_no: str = "M100001", phone: str = "+8613900000001",
) -> Member:
    """A member with ``points`` earned 10 days ago, bound to ``channel:sender``."""
    async with transaction(kefu.sessions) as session:
        member = await create_member(session, kefu, member_no=member_no, phone=phone)
        if points:
            await earn(session, member, points)
        identity = await member_store.ensure_identity(session, channel=channel,
                                                      external_id=sender, now=FIXED_NOW)
        await member_store.bind_identity(session, identity=identity, member=member,
                                         now=FIXED_NOW)
    return member


def at(days_ago: int) -> datetime:
    return FIXED_NOW - timedelta(days=days_ago)
