"""Data functions for conversations and their messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from bot.core.storage.members import ensure_identity
from bot.core.storage.models import ChannelIdentity, Conversation, Member, Message
from bot.core.storage.sealed import keyring_of, seal
from bot.core.storage.upsert import insert_ignore


async def open_conversation(
    session: AsyncSession, *, channel: str, external_id: str, now: datetime
) -> tuple[ChannelIdentity, Conversation]:
    """The sender's identity (with its member loaded, if bound) and latest conversation, in
    one statement for a sender who wrote before; created on first contact."""
    latest = (select(func.max(Conversation.id))
              .where(Conversation.identity_id == ChannelIdentity.id)
              .correlate(ChannelIdentity)
              .scalar_subquery())
    statement = (
        select(ChannelIdentity, Conversation)
        .outerjoin(Member, Member.id == ChannelIdentity.member_id)
        .outerjoin(Conversation, Conversation.id == latest)
        # The member rides along on identity.member: resolve_member then finds it in the
        # session instead of asking the database again.
        .options(contains_eager(ChannelIdentity.member))
        .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
    )
    row = (await session.execute(statement)).first()
    if row is None:
        identity = await ensure_identity(session, channel=channel, external_id=external_id,
                                         now=now)
        return identity, await current_conversation(session, identity=identity, now=now)
    identity, conversation = row
    if conversation is None:
        conversation = await current_conversation(session, identity=identity, now=now)
    return identity, conversation


async def current_conversation(
    session: AsyncSession, *, identity: ChannelIdentity, now: datetime
) -> Conversation:
    """The identity's latest conversation, started on first contact."""
    result = await session.execute(
        select(Conversation)
        .where(Conversation.identity_id == identity.id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    conversation = result.scalar_one_or_none()
    if conversation is None:
        conversation = Conversation(
            identity_id=identity.id,
            member_id=identity.member_id,
            channel=identity.channel,
            state={},
            started_at=now,
            last_message_at=now,
        )
        session.add(conversation)
        await session.flush()
    return conversation


async def record_inbound(
    session: AsyncSession,
    *,
    conversation: Conversation,
    channel: str,
    channel_message_id: str | None,
    text: str,
    now: datetime,
) -> int | None:
    """Stores an inbound message; ``None`` when that platform message was stored before."""
    message = await store_inbound(session, conversation=conversation, channel=channel,
                                  channel_message_id=channel_message_id, text=text, now=now)
    return message.id if message is not None else None


async def store_inbound(
    session: AsyncSession,
    *,
    conversation: Conversation,
    channel: str,
    channel_message_id: str | None,
    text: str,
    now: datetime,
) -> Message | None:
    """Like :func:`record_inbound`, returning the stored row: keep it to change it later
    without reading it back (the session holds rows only while someone refers to them)."""
    values: dict[str, Any] = {
        "conversation_id": conversation.id,
        "direction": "in",
        "channel": channel,
        "channel_message_id": channel_message_id,
        "text": text,
        "created_at": now,
    }
    if channel_message_id is None:
        message = Message(**values)
        session.add(message)
        await session.flush()
        return message
    # A Core statement: the ORM does not see it, so the text is encrypted here.
    values["text"] = seal(keyring_of(session), text)
    new_id = await insert_ignore(session, Message, values,
                                 conflict=["channel", "channel_message_id"])
    if new_id is None:
        return None
    # The row exists only in the database: load it once (the redelivery-safe path).
    return await session.get(Message, new_id)


async def find_inbound(
    session: AsyncSession, *, channel: str, channel_message_id: str
) -> Message | None:
    result = await session.execute(
        select(Message).where(
            Message.channel == channel, Message.channel_message_id == channel_message_id
        )
    )
    return result.scalar_one_or_none()


async def replies_to(session: AsyncSession, *, message_id: int) -> list[Message]:
    result = await session.execute(
        select(Message).where(Message.reply_to_id == message_id).order_by(Message.id)
    )
    return list(result.scalars())


async def record_outbound(
    session: AsyncSession,
    *,
    conversation: Conversation,
    channel: str,
    reply_to_id: int | None,
    text: str,
    buttons: list[dict[str, str]] | None,
    now: datetime,
) -> Message:
    """Stores one outbound message (an agent's reply); a turn's replies use
    :func:`record_replies`."""
    (message,) = await record_replies(session, conversation=conversation, channel=channel,
                                      reply_to_id=reply_to_id, replies=[(text, buttons)],
                                      now=now)
    return message


async def record_replies(
    session: AsyncSession,
    *,
    conversation: Conversation,
    channel: str,
    reply_to_id: int | None,
    replies: list[tuple[str, list[dict[str, str]] | None]],
    now: datetime,
) -> list[Message]:
    """Stores a turn's replies (text, buttons) in one flush: one INSERT for all of them."""
    messages = [
        Message(conversation_id=conversation.id, direction="out", channel=channel,
                reply_to_id=reply_to_id, text=text, buttons=buttons, created_at=now)
        for text, buttons in replies
    ]
    session.add_all(messages)
    if messages:
        await session.flush()
    return messages


async def set_understanding(
    session: AsyncSession, *, message_id: int, intent: str | None, confidence: float | None,
    outcome: str | None = None, message: Message | None = None,
) -> None:
    """What the bot made of an inbound message; pass the ``message`` row when it is at hand."""
    if message is None or message.id != message_id:
        message = await session.get(Message, message_id)
    if message is not None:
        message.intent = intent
        message.confidence = confidence
        message.outcome = outcome


async def history(
    session: AsyncSession, *, conversation_id: int, limit: int = 50
) -> list[Message]:
    result = await session.execute(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(reversed(list(result.scalars())))
