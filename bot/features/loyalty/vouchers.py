"""Tier vouchers (``membership.tiers[].vouchers``): which are due, issued once per period."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage import vouchers as store
from bot.core.storage.models import Member
from bot.settings import Settings, TierRule, TierVoucher


def period_of(voucher: TierVoucher, day: date) -> str:
    """The period ``day`` falls in for this voucher: "2026" or "2026-11"."""
    return f"{day:%Y}" if voucher.period == "year" else f"{day:%Y-%m}"


def due_vouchers(rule: TierRule, *, birthday: date | None,
                 day: date) -> list[tuple[TierVoucher, str]]:
    """The tier's vouchers a member may have on ``day`` (their local date), with the period
    each belongs to. Birthday vouchers are due only in the birthday month."""
    due = []
    for voucher in rule.vouchers:
        if voucher.birthday_month and (birthday is None or birthday.month != day.month):
            continue
        due.append((voucher, period_of(voucher, day)))
    return due


async def issue_vouchers(
    session: AsyncSession, *, member: Member, tier: str, birthday: date | None, day: date,
    settings: Settings, now: datetime,
) -> list[str]:
    """Puts the due vouchers into the member's rewards; returns the codes newly issued (a
    voucher already issued for its period is not issued again)."""
    issued = []
    for voucher, period in due_vouchers(settings.tier(tier), birthday=birthday, day=day):
        if await store.add_voucher(session, member_id=member.id, code=voucher.code,
                                   period=period, tier=tier, now=now):
            issued.append(voucher.code)
    return issued
