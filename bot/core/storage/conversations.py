"""Data functions for conversations and their messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models import ChannelIdentity, Conversation, Message
from bot.core.storage.sealed import keyring_of, seal
from bot.core.storage.upsert import insert_ignore


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
        return message.id
    # A Core statement: the ORM does not see it, so the text is encrypted here.
    values["text"] = seal(keyring_of(session), text)
    return await insert_ignore(session, Message, values, conflict=["channel", "channel_message_id"])


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
    message = Message(
        conversation_id=conversation.id,
        direction="out",
        channel=channel,
        reply_to_id=reply_to_id,
        text=text,
        buttons=buttons,
        created_at=now,
    )
    session.add(message)
    await session.flush()
    return message


async def set_understanding(
    session: AsyncSession, *, message_id: int, intent: str | None, confidence: float | None,
    outcome: str | None = None,
) -> None:
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
