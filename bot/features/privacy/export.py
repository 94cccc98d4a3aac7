"""Everything Kefu holds about a member, decrypted, as JSON-ready data (PIPL Art. 45)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage import members as member_store
from bot.core.storage.models import Conversation, Member, Message, Purchase
from bot.features.loyalty.ledger import list_transactions
from bot.features.loyalty.service import member_standing
from bot.features.members.directory import Directory
from bot.features.privacy import requests
from bot.features.privacy.sections import EXPORTERS
from bot.settings import Settings


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


async def export_member(
    session: AsyncSession, *, directory: Directory, member: Member, settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """Profile, identities, ledger, purchases, conversations with messages, consents, privacy
    requests and every registered section. Audit it where it is called: the caller knows who
    asked."""
    standing = await member_standing(session, member=member, settings=settings, now=now)
    identities = await member_store.identities_of(session, member_id=member.id)
    data: dict[str, Any] = {
        "exported_at": now.isoformat(),
        "profile": {
            "member_no": member.member_no,
            "name": directory.name(member),
            "phone": directory.phone(member),
            "birthday": _iso(directory.birthday(member)),
            "address": directory.address(member),
            "language": member.language,
            "timezone": member.timezone,
            "tier": standing.tier,
            "points_balance": standing.points.balance,
            "joined_at": _iso(member.joined_at),
            "erased_at": _iso(member.erased_at),
        },
        "consents": {
            "greetings": member.consent_greetings,
            "promotions": member.consent_promotions,
            "updated_at": _iso(member.consent_updated_at),
            "history": [{"kind": e.kind, "granted": e.granted, "source": e.source,
                         "at": _iso(e.at)}
                        for e in await requests.consent_history(session, member_id=member.id)],
        },
        "identities": [{"channel": i.channel, "sender": i.external_id, "language": i.language,
                        "bound_at": _iso(i.bound_at), "unsubscribed_at": _iso(i.unsubscribed_at),
                        "first_seen_at": _iso(i.created_at), "last_seen_at": _iso(i.last_seen_at)}
                       for i in identities],
        "ledger": [{"kind": t.kind, "points": t.points, "occurred_at": _iso(t.occurred_at),
                    "expires_on": _iso(t.expires_on), "reason": t.reason,
                    "ref": t.external_ref}
                   for t in await list_transactions(session, member_id=member.id)],
        "purchases": await _purchases(session, member.id),
        "conversations": await _conversations(session, member.id,
                                              [identity.id for identity in identities]),
        "privacy_requests": [{"kind": r.kind, "status": r.status, "source": r.source,
                              "requested_at": _iso(r.requested_at),
                              "completed_at": _iso(r.completed_at), "outcome": r.outcome}
                             for r in await requests.list_requests(
                                 session, member_id=member.id, limit=1000)],
    }
    for name, exporter in sorted(EXPORTERS.items()):
        data[name] = await exporter(session, member)
    return data


async def _purchases(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    rows = await session.scalars(select(Purchase).where(Purchase.member_id == member_id)
                                 .order_by(Purchase.occurred_at, Purchase.id))
    return [{"amount": str(p.amount), "occurred_at": _iso(p.occurred_at), "store": p.store_code,
             "ref": p.external_ref} for p in rows]


async def member_conversations(
    session: AsyncSession, *, member_id: int, identity_ids: list[int]
) -> list[Conversation]:
    """The member's conversations, including those from before they bound their account."""
    condition = Conversation.member_id == member_id
    if identity_ids:
        condition = or_(condition, Conversation.identity_id.in_(identity_ids))
    result = await session.scalars(select(Conversation).where(condition)
                                   .order_by(Conversation.id))
    return list(result)


async def _conversations(
    session: AsyncSession, member_id: int, identity_ids: list[int]
) -> list[dict[str, Any]]:
    exported = []
    for conversation in await member_conversations(session, member_id=member_id,
                                                   identity_ids=identity_ids):
        messages = await session.scalars(
            select(Message).where(Message.conversation_id == conversation.id)
            .order_by(Message.created_at, Message.id))
        exported.append({
            "channel": conversation.channel,
            "started_at": _iso(conversation.started_at),
            "status": conversation.status,
            "messages": [{"direction": m.direction, "text": m.text, "buttons": m.buttons,
                          "intent": m.intent, "at": _iso(m.created_at)} for m in messages],
        })
    return exported
