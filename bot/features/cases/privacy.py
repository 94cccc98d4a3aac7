"""Cases in a member's data export, and their personal content in an erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage import members as member_store
from bot.core.storage.models import Member
from bot.core.storage.models_cases import Case, CaseEvent
from bot.features.privacy.sections import register_section


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def _member_cases(session: AsyncSession, member: Member) -> list[Case]:
    identity_ids = [i.id for i in await member_store.identities_of(session, member_id=member.id)]
    condition = Case.member_id == member.id
    if identity_ids:
        condition = or_(condition, Case.identity_id.in_(identity_ids))
    return list(await session.scalars(select(Case).where(condition).order_by(Case.id)))


async def export_cases(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    cases = await _member_cases(session, member)
    return [{
        "number": c.number, "kind": c.kind, "category": c.category,
        "description": c.description, "order_id": c.order_id, "store": c.store_code,
        "priority": c.priority, "status": c.status, "channel": c.channel,
        "created_at": _iso(c.created_at), "closed_at": _iso(c.closed_at),
        "resolution": c.resolution_code, "csat_score": c.csat_score,
        "csat_comment": c.csat_comment,
    } for c in cases]


async def erase_cases(session: AsyncSession, member: Member) -> None:
    """Keeps the cases as statistics (kind, priority, times, rating) without their words."""
    ids = [c.id for c in await _member_cases(session, member)]
    if not ids:
        return
    await session.execute(update(Case).where(Case.id.in_(ids))
                          .values(description="", order_id=None, csat_comment=None,
                                  member_id=None))
    await session.execute(update(CaseEvent).where(CaseEvent.case_id.in_(ids))
                          .values(body=None, data={}))


register_section("cases", exporter=export_cases, eraser=erase_cases)
