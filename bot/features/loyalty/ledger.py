"""Data functions for the points ledger and purchases."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models import Member, PointTransaction, Purchase
from bot.core.storage.models_loyalty import PointsSnapshot
from bot.core.storage.upsert import insert_ignore, upsert
from bot.features.loyalty.points import LedgerEntry


async def add_transaction(
    session: AsyncSession,
    *,
    member_id: int,
    kind: str,
    points: int,
    occurred_at: datetime,
    expires_on: date | None = None,
    reason: str = "",
    external_ref: str | None = None,
) -> int | None:
    """Records a ledger entry; returns its id, or ``None`` if ``external_ref`` was seen before."""
    return await insert_ignore(
        session,
        PointTransaction,
        {
            "member_id": member_id,
            "kind": kind,
            "points": points,
            "occurred_at": occurred_at,
            "expires_on": expires_on,
            "reason": reason,
            "external_ref": external_ref,
            "created_at": occurred_at,
        },
        conflict=["member_id", "external_ref"],
    )


async def list_transactions(
    session: AsyncSession, *, member_id: int, limit: int | None = None, offset: int = 0
) -> list[PointTransaction]:
    """Newest first."""
    statement = (
        select(PointTransaction)
        .where(PointTransaction.member_id == member_id)
        .order_by(PointTransaction.occurred_at.desc(), PointTransaction.id.desc())
        .offset(offset)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list((await session.execute(statement)).scalars())


async def ledger_entries(
    session: AsyncSession, *, member_id: int, zone: ZoneInfo, after: datetime | None = None
) -> list[LedgerEntry]:
    """The member's entries in time order; with ``after``, only those dated later."""
    # Only the columns the lot arithmetic needs: a long ledger is read without building
    # an ORM object per row.
    statement = (
        select(PointTransaction.kind, PointTransaction.points, PointTransaction.occurred_at,
               PointTransaction.expires_on)
        .where(PointTransaction.member_id == member_id)
        .order_by(PointTransaction.occurred_at, PointTransaction.id))
    if after is not None:
        statement = statement.where(PointTransaction.occurred_at > after)
    rows = await session.execute(statement)
    return [
        LedgerEntry(
            kind=kind,
            points=points,
            occurred_on=occurred_at.astimezone(zone).date(),
            expires_on=expires_on,
            occurred_at=occurred_at,
        )
        for kind, points, occurred_at, expires_on in rows
    ]


async def count_entries_through(session: AsyncSession, *, member_id: int,
                                through: datetime) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(PointTransaction).where(
            PointTransaction.member_id == member_id, PointTransaction.occurred_at <= through))
        or 0)


async def get_snapshot(session: AsyncSession, *, member_id: int) -> PointsSnapshot | None:
    return await session.get(PointsSnapshot, member_id)


async def save_snapshot(session: AsyncSession, *, member_id: int, zone: str,
                        through_at: datetime, entries: int, state: dict[str, Any],
                        now: datetime) -> None:
    await upsert(session, PointsSnapshot,
                 {"member_id": member_id, "zone": zone, "through_at": through_at,
                  "entries": entries, "state": state, "updated_at": now},
                 conflict=["member_id"])


async def lock_member(session: AsyncSession, *, member_id: int) -> None:
    """Holds the member's row until the transaction ends (PostgreSQL): writes that read the
    balance first queue up behind each other."""
    await session.execute(select(Member.id).where(Member.id == member_id).with_for_update())


async def add_purchase(
    session: AsyncSession,
    *,
    member_id: int,
    amount: Decimal,
    occurred_at: datetime,
    store_code: str | None = None,
    external_ref: str | None = None,
) -> int | None:
    return await insert_ignore(
        session,
        Purchase,
        {
            "member_id": member_id,
            "amount": amount,
            "occurred_at": occurred_at,
            "store_code": store_code,
            "external_ref": external_ref,
            "created_at": occurred_at,
        },
        conflict=["member_id", "external_ref"],
    )


async def purchase_totals(
    session: AsyncSession, *, member_id: int, since: datetime, zone: ZoneInfo,
    until: datetime | None = None,
) -> tuple[Decimal, int]:
    """Spend from ``since`` (to ``until``, exclusive) net of refunds, and visits (distinct
    local days with a purchase; a refund is no visit)."""
    period = [Purchase.member_id == member_id, Purchase.occurred_at >= since]
    if until is not None:
        period.append(Purchase.occurred_at < until)
    spend = await session.scalar(select(func.coalesce(func.sum(Purchase.amount), 0))
                                 .where(*period))
    times = await session.scalars(select(Purchase.occurred_at).where(*period,
                                                                      Purchase.amount > 0))
    visits = len({moment.astimezone(zone).date() for moment in times})
    return max(Decimal(str(spend or 0)), Decimal(0)), visits
