"""Erasure (PIPL Art. 47): personal data and message texts go, statistics and ledger stay.

Kept: the member row with its member number (the retailer's key for the points ledger, which
accounting rules require), the ledger and purchases (totals and visit statistics), message
metadata (direction, intent, time) and the consent and privacy-request history (proof of what
the member agreed to and asked for). Everything that identifies or describes the person goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import audit
from bot.core.storage import members as member_store
from bot.core.storage.models import ChannelIdentity, Member, Message, OutboxMessage
from bot.features.privacy import requests
from bot.features.privacy.export import member_conversations
from bot.features.privacy.sections import ERASERS

ERASED_TEXT = ""


@dataclass(frozen=True, slots=True)
class ErasureReport:
    member_no: str | None
    already_erased: bool
    identities_unlinked: int
    conversations_cleared: int
    messages_cleared: int


async def erase_conversations(
    session: AsyncSession, *, conversation_ids: list[int], identity_ids: list[int]
) -> int:
    """Clears message texts, dialogue state and queued deliveries; returns messages cleared."""
    cleared = 0
    if conversation_ids:
        result = await session.execute(
            update(Message).where(Message.conversation_id.in_(conversation_ids),
                                  Message.text != ERASED_TEXT)
            .values(text=ERASED_TEXT, buttons=None))
        cleared = int(getattr(result, "rowcount", 0) or 0)
    if identity_ids:
        # Queued or finished deliveries carry the text too; nothing more goes out to them.
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.identity_id.in_(identity_ids),
                                        OutboxMessage.status == "pending")
            .values(status="failed", last_error="recipient's data erased"))
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.identity_id.in_(identity_ids))
            .values(payload={}))
    return cleared


async def erase_member(
    session: AsyncSession, *, member: Member, actor: str, now: datetime, source: str = "cli"
) -> ErasureReport:
    """Erases ``member``'s personal data; running it again changes nothing more."""
    identities = await member_store.identities_of(session, member_id=member.id)
    identity_ids = [identity.id for identity in identities]
    conversations = await member_conversations(session, member_id=member.id,
                                               identity_ids=identity_ids)
    already = member.erased_at is not None
    cleared = await erase_conversations(session, conversation_ids=[c.id for c in conversations],
                                        identity_ids=identity_ids)
    for conversation in conversations:
        conversation.state = {}
        conversation.member_id = None
    for identity in identities:
        identity.member_id = None
        identity.bound_at = None
    for kind in requests.CONSENT_KINDS:
        if getattr(member, f"consent_{kind}"):
            await requests.record_consent(session, member=member, kind=kind, granted=False,
                                          source="erasure", now=now)
    member.phone_enc = member.phone_index = member.name_enc = None
    member.birthday_enc = member.birthday_index = member.address_enc = None
    if not already:
        member.erased_at = now
    for eraser in ERASERS.values():
        await eraser(session, member)
    outcome = "already erased" if already else "erased"
    await requests.complete_requests(session, member_id=member.id, kind=requests.ERASE,
                                     actor=actor, now=now, outcome=outcome, source=source)
    await audit.record(session, actor=actor, action=audit.MEMBER_ERASE, subject=member.member_no,
                       detail={"identities_unlinked": len(identities),
                               "messages_cleared": cleared, "already_erased": already}, now=now)
    await session.flush()
    return ErasureReport(member.member_no, already, len(identities), len(conversations), cleared)


async def erase_identity(
    session: AsyncSession, *, identity: ChannelIdentity, actor: str, now: datetime
) -> ErasureReport:
    """Erases what came through one channel identity: its messages and its link to a member.
    The membership itself stays (see :func:`erase_member` for that)."""
    from bot.core.storage.models import Conversation

    conversations = list(await session.scalars(
        select(Conversation).where(Conversation.identity_id == identity.id)))
    cleared = await erase_conversations(session, conversation_ids=[c.id for c in conversations],
                                        identity_ids=[identity.id])
    for conversation in conversations:
        conversation.state = {}
        conversation.member_id = None
    unlinked = int(identity.member_id is not None)
    identity.member_id = None
    identity.bound_at = None
    identity.language = None
    await audit.record(session, actor=actor, action=audit.MEMBER_ERASE,
                       subject=f"identity:{identity.id}",
                       detail={"channel": identity.channel, "messages_cleared": cleared,
                               "identities_unlinked": unlinked}, now=now)
    await session.flush()
    return ErasureReport(None, False, unlinked, len(conversations), cleared)
