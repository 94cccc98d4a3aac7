"""Binding and unbinding a channel identity, each recorded as an event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.members import bind_identity
from bot.core.storage.models import ChannelIdentity, Member
from bot.core.storage.models_selfservice import BindingEvent


async def bind(
    session: AsyncSession, *, identity: ChannelIdentity, member: Member, method: str,
    now: datetime,
) -> None:
    await bind_identity(session, identity=identity, member=member, now=now)
    session.add(BindingEvent(member_id=member.id, identity_id=identity.id,
                             channel=identity.channel, action="bind", method=method,
                             occurred_at=now))
    await session.flush()


async def unbind(
    session: AsyncSession, *, identity: ChannelIdentity, now: datetime, method: str = "member"
) -> None:
    if identity.member_id is None:
        return
    session.add(BindingEvent(member_id=identity.member_id, identity_id=identity.id,
                             channel=identity.channel, action="unbind", method=method,
                             occurred_at=now))
    identity.member_id = None
    identity.bound_at = None
    await session.flush()


async def binding_events(session: AsyncSession, *, member_id: int) -> list[BindingEvent]:
    result = await session.execute(
        select(BindingEvent).where(BindingEvent.member_id == member_id)
        .order_by(BindingEvent.id))
    return list(result.scalars())
