"""Data functions for conversations and their messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from bot.core.storage.members import ensure_identity
from bot.core.storage.models import ChannelIdentity, Conversation, Member, Message
from bot.core.storage.sealed import keyring_of, seal
from bot.core.storage.upsert import insert_ignore

MESSAGES = cast(Table, Message.__table__)

# The statements every turn runs are built once: building one and working out its cache key
# cost more than running it (bench/turns).
_LATEST = (select(func.max(Conversation.id))
           .where(Conversation.identity_id == ChannelIdentity.id)
           .correlate(ChannelIdentity)
           .scalar_subquery())
_OPEN_CONVERSATION = (
    select(ChannelIdentity, Conversation)
    .outerjoin(Member, Member.id == ChannelIdentity.member_id)
    .outerjoin(Conversation, Conversation.id == _LATEST)
    # The member rides along on identity.member: resolve_member then finds it in the
    # session instead of asking the database again.
    .options(contains_eager(ChannelIdentity.member))
    .where(ChannelIdentity.channel == bindparam("channel"),
           ChannelIdentity.external_id == bindparam("external_id"))
)
_INSERT_MESSAGE = insert(MESSAGES).returning(MESSAGES.c.id)
_INSERT_REPLIES = insert(MESSAGES).returning(MESSAGES.c.id, sort_by_parameter_order=True)
_SET_UNDERSTANDING = (update(MESSAGES).where(MESSAGES.c.id == bindparam("message_id"))
                      .values(intent=bindparam("intent"), confidence=bindparam("confidence"),
                              outcome=bindparam("outcome")))
# By primary key; the columns to set are the parameters given.
_UPDATE_BY_ID = {model: update(cast(Table, model.__table__))
                 .where(cast(Table, model.__table__).c.id == bindparam("row_id"))
                 for model in (ChannelIdentity, Conversation)}


async def open_conversation(
    session: AsyncSession, *, channel: str, external_id: str, now: datetime
) -> tuple[ChannelIdentity, Conversation]:
    """The sender's identity (with its member loaded, if bound) and latest conversation, in
    one statement for a sender who wrote before; created on first contact."""
    row = (await session.execute(_OPEN_CONVERSATION,
                                 {"channel": channel, "external_id": external_id})).first()
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
    intent: str | None = None,
    confidence: float | None = None,
) -> int | None:
    """Stores an inbound message and returns its id; ``None`` when that platform message
    was stored before (a redelivery).

    One Core INSERT, no ORM object: a turn changes the row once more (what was understood,
    :func:`set_understanding`) and never reads it back, and the ORM's unit of work cost
    several times the statement on every turn (bench/turns). Core statements bypass the
    ORM's encryption of ``messages.text``, so the text is sealed here.
    """
    values: dict[str, Any] = {
        "conversation_id": conversation.id,
        "direction": "in",
        "channel": channel,
        "channel_message_id": channel_message_id,
        "text": seal(keyring_of(session), text),
        "created_at": now,
        "intent": intent,
        "confidence": confidence,
    }
    if channel_message_id is None:
        connection = await session.connection()
        return int((await connection.execute(_INSERT_MESSAGE, values)).scalar_one())
    return await insert_ignore(session, Message, values,
                               conflict=["channel", "channel_message_id"])


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
    :func:`insert_replies`."""
    message = Message(conversation_id=conversation.id, direction="out", channel=channel,
                      reply_to_id=reply_to_id, text=text, buttons=buttons, created_at=now)
    session.add(message)
    await session.flush()
    return message


async def insert_replies(
    session: AsyncSession,
    *,
    conversation: Conversation,
    channel: str,
    reply_to_id: int | None,
    replies: list[tuple[str, list[dict[str, str]] | None]],
    now: datetime,
) -> list[int]:
    """Stores a turn's replies (text, buttons) with one Core INSERT; their ids, in order.

    No ORM objects: a turn never reads them back, and the ORM's flush cost more than the
    INSERT (bench/turns)."""
    if not replies:
        return []
    keyring = keyring_of(session)
    rows = [{"conversation_id": conversation.id, "direction": "out", "channel": channel,
             "reply_to_id": reply_to_id, "text": seal(keyring, text), "buttons": buttons,
             "created_at": now} for text, buttons in replies]
    connection = await session.connection()
    # Executemany with RETURNING ("insertmanyvalues"): one statement, ids in row order.
    inserted = await connection.execute(_INSERT_REPLIES, rows)
    return [int(row_id) for row_id in inserted.scalars()]


async def set_understanding(
    session: AsyncSession, *, message_id: int, intent: str | None, confidence: float | None,
    outcome: str | None = None,
) -> None:
    """What the bot made of an inbound message."""
    connection = await session.connection()
    await connection.execute(_SET_UNDERSTANDING, {"message_id": message_id, "intent": intent,
                                                  "confidence": confidence,
                                                  "outcome": outcome})


async def write_row(session: AsyncSession, row: ChannelIdentity | Conversation,
                    values: dict[str, Any]) -> None:
    """Writes ``values`` and whatever else of ``row`` changed since it was loaded with one
    Core UPDATE (none when there is nothing), and keeps them as the row's stored state.

    A turn's bookkeeping (last seen, last message, reply windows) would otherwise go
    through the ORM's unit of work: its flush cost several times the UPDATE itself on every
    turn (bench/turns). Values are set as already stored, so the ORM has nothing left to
    write for them; changes made through the ORM are folded into the same statement.
    """
    values = dict(values)
    state = instance_state(row)
    columns = state.mapper.column_attrs
    for key in state.committed_state:
        if key in columns and key not in values and state.attrs[key].history.has_changes():
            values[key] = getattr(row, key)
    if not values:
        return
    connection = await session.connection()
    await connection.execute(_UPDATE_BY_ID[type(row)], {**values, "row_id": row.id})
    for key, value in values.items():
        set_committed_value(row, key, value)


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
