"""Binding and profile records in a member's data export and erasure."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage import members as member_store
from bot.core.storage.models import Member
from bot.core.storage.models_selfservice import (
    BindingChallenge,
    BindingEvent,
    ChannelOptOut,
    ProfileChange,
)
from bot.features.privacy.sections import register_section


async def export_account_records(session: AsyncSession, member: Member) -> dict[str, Any]:
    identities = await member_store.identities_of(session, member_id=member.id)
    identity_ids = [i.id for i in identities]
    events = await session.scalars(select(BindingEvent).where(
        BindingEvent.member_id == member.id).order_by(BindingEvent.id))
    changes = await session.scalars(select(ProfileChange).where(
        ProfileChange.member_id == member.id).order_by(ProfileChange.id))
    opt_outs: list[ChannelOptOut] = list(await session.scalars(select(ChannelOptOut).where(
        ChannelOptOut.identity_id.in_(identity_ids)))) if identity_ids else []
    return {
        "bindings": [{"channel": e.channel, "action": e.action, "method": e.method,
                      "at": e.occurred_at.isoformat()} for e in events],
        "profile_changes": [{"field": c.field, "channel": c.channel,
                             "at": c.changed_at.isoformat()} for c in changes],
        "channel_opt_outs": [{"identity": o.identity_id, "topic": o.topic,
                              "since": o.created_at.isoformat()} for o in opt_outs],
    }


async def erase_account_records(session: AsyncSession, member: Member) -> None:
    """One-time codes go (they hold a phone's keyed hash); the bind/unbind and change records
    stay as statistics: they name no value."""
    await session.execute(delete(BindingChallenge).where(
        BindingChallenge.member_id == member.id))


register_section("account_records", exporter=export_account_records,
                 eraser=erase_account_records)
