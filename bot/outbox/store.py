"""Data functions of the outbox: enqueue, claim with a lease, and record the outcome."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.core import correlation
from bot.core.messages import Button, OutboundMessage
from bot.core.storage.models import OutboxMessage
from bot.core.storage.upsert import insert_ignore, insert_many_ignore
from bot.outbox import web_signal

PENDING, SENT, FAILED = "pending", "sent", "failed"


def to_payload(message: OutboundMessage) -> dict[str, Any]:
    return {
        "text": message.text,
        "buttons": [{"title": b.title, "payload": b.payload} for b in message.buttons],
        "request_contact": message.request_contact,
    }


def from_payload(channel: str, recipient_id: str, payload: dict[str, Any]) -> OutboundMessage:
    return OutboundMessage(
        channel=channel,
        recipient_id=recipient_id,
        text=str(payload.get("text", "")),
        buttons=tuple(Button(b["title"], b["payload"]) for b in payload.get("buttons") or ()),
        request_contact=bool(payload.get("request_contact")),
    )


def _with_correlation(payload: dict[str, Any]) -> dict[str, Any]:
    """The id of the request or message that caused this send, for the dispatcher's logs."""
    correlation_id = correlation.current()
    return {**payload, correlation.KEY: correlation_id} if correlation_id else payload


async def enqueue(
    session: AsyncSession,
    message: OutboundMessage,
    *,
    identity_id: int | None,
    now: datetime,
    message_id: int | None = None,
    purpose: str = "reply",
    not_before: datetime | None = None,
    dedupe_key: str | None = None,
    extra: dict[str, Any] | None = None,
) -> int | None:
    """Adds a message to the outbox; ``None`` when ``dedupe_key`` was enqueued before.

    ``extra`` joins the payload (a WeChat ``template`` for when the reply window is closed).
    """
    row_id = await insert_ignore(
        session,
        OutboxMessage,
        {
            "channel": message.channel,
            "recipient_id": message.recipient_id,
            "identity_id": identity_id,
            "message_id": message_id,
            "purpose": purpose,
            "payload": _with_correlation({**to_payload(message), **(extra or {})}),
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": not_before or now,
            "dedupe_key": dedupe_key,
            "created_at": now,
        },
        conflict=["dedupe_key"],
    )
    if row_id is not None and message.channel == web_signal.WEB:
        # Open chat pages are woken when this commits, instead of polling for it.
        await web_signal.announce(session, message.recipient_id)
    return row_id


async def enqueue_many(
    session: AsyncSession, rows: list[tuple[OutboundMessage, int | None, str, dict[str, Any]]],
    *, now: datetime, purpose: str, not_before: list[datetime],
) -> dict[str, int]:
    """Adds many messages in one statement: (message, identity id, dedupe key, extra payload)
    each, ``not_before`` one per row. Keys enqueued before are left alone. Returns every
    key's outbox id, new or old."""
    if not rows:
        return {}
    await insert_many_ignore(session, OutboxMessage, [
        {"channel": message.channel, "recipient_id": message.recipient_id,
         "identity_id": identity_id, "message_id": None, "purpose": purpose,
         "payload": {**to_payload(message), **extra}, "status": PENDING, "attempts": 0,
         "next_attempt_at": due, "dedupe_key": key, "created_at": now}
        for (message, identity_id, key, extra), due in zip(rows, not_before, strict=True)],
        conflict=["dedupe_key"])
    # Open chat pages of web recipients are woken when this commits (as enqueue does).
    for recipient in sorted({m.recipient_id for m, _, _, _ in rows if m.channel == web_signal.WEB}):
        await web_signal.announce(session, recipient)
    keys = [key for _, _, key, _ in rows]
    result = await session.execute(select(OutboxMessage.dedupe_key, OutboxMessage.id)
                                   .where(OutboxMessage.dedupe_key.in_(keys)))
    return {str(key): int(row_id) for key, row_id in result.all()}


async def claim(
    session: AsyncSession,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    channels: list[str] | None = None,
) -> list[OutboxMessage]:
    """Leases up to ``limit`` due rows to ``owner``.

    Only the oldest unsent row of each recipient is eligible, so one chat's messages go out
    in order and never two at once. PostgreSQL skips rows another dispatcher has locked;
    SQLite serialises writers, so the same UPDATE is safe there too.
    """
    earlier = aliased(OutboxMessage)
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == PENDING,
            OutboxMessage.next_attempt_at <= now,
            (OutboxMessage.lease_until.is_(None)) | (OutboxMessage.lease_until < now),
            ~exists().where(and_(
                earlier.channel == OutboxMessage.channel,
                earlier.recipient_id == OutboxMessage.recipient_id,
                earlier.status == PENDING,
                earlier.id < OutboxMessage.id,
            )),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if channels is not None:
        due = due.where(OutboxMessage.channel.in_(channels))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True, of=OutboxMessage)
    ids = list((await session.execute(due)).scalars())
    return await update_pending(session, ids, lease_owner=owner, lease_until=now + lease,
                                attempts=OutboxMessage.attempts + 1)


async def update_pending(session: AsyncSession, ids: list[int], **values: Any
                         ) -> list[OutboxMessage]:
    """Applies ``values`` to those of ``ids`` that are still pending and returns them, oldest
    first. Checking the status in the UPDATE itself is what keeps two takers apart."""
    if not ids:
        return []
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == PENDING)
        .values(**values)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars(), key=lambda row: row.id)


async def mark_sent(
    session: AsyncSession, *, outbox_id: int, now: datetime, via: str = "api",
    platform_message_id: str | None = None,
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(status=SENT, sent_at=now, delivered_via=via, lease_owner=None, lease_until=None,
                platform_message_id=platform_message_id, last_error=None)
    )


async def mark_failed(session: AsyncSession, *, outbox_id: int, reason: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(status=FAILED, last_error=reason[:500], lease_owner=None, lease_until=None)
    )


async def reschedule(
    session: AsyncSession, *, outbox_id: int, at: datetime, reason: str,
    refund_attempt: bool = False,
) -> None:
    """Puts a row back for a later attempt (a retry, or a parked 429, which is not the
    message's fault and so does not count as an attempt)."""
    values: dict[str, Any] = {"next_attempt_at": at, "last_error": reason[:500],
                              "lease_owner": None, "lease_until": None}
    if refund_attempt:
        values["attempts"] = OutboxMessage.attempts - 1
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(**values))


async def for_message(session: AsyncSession, *, message_id: int) -> list[OutboxMessage]:
    """The outbox rows of the replies to one inbound message."""
    from bot.core.storage.models import Message

    result = await session.execute(
        select(OutboxMessage)
        .join(Message, Message.id == OutboxMessage.message_id)
        .where(Message.reply_to_id == message_id)
        .order_by(OutboxMessage.id)
    )
    return list(result.scalars())


async def pending_by_channel(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(
        select(OutboxMessage.channel, func.count())
        .where(OutboxMessage.status == PENDING)
        .group_by(OutboxMessage.channel))
    return {channel: int(count) for channel, count in result.all()}


async def renew(session: AsyncSession, *, ids: list[int], owner: str, until: datetime) -> int:
    """Extends the lease of those of ``ids`` that ``owner`` still holds; returns how many."""
    if not ids:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.lease_owner == owner,
               OutboxMessage.status == PENDING)
        .values(lease_until=until)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def release(session: AsyncSession, *, ids: list[int], owner: str,
                  refund_attempt: bool = True) -> None:
    """Gives claimed rows back unsent (a shutdown drain): due at once for the next
    dispatcher, and the claim does not count as an attempt."""
    if not ids:
        return
    values: dict[str, Any] = {"lease_owner": None, "lease_until": None}
    if refund_attempt:
        values["attempts"] = OutboxMessage.attempts - 1
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.lease_owner == owner,
               OutboxMessage.status == PENDING)
        .values(**values)
        .execution_options(synchronize_session=False))


async def leases_of(session: AsyncSession, *, owner_prefix: str, now: datetime
                    ) -> list[tuple[int, str]]:
    """Pending rows whose lease is still running and whose owner starts with the prefix."""
    result = await session.execute(
        select(OutboxMessage.id, OutboxMessage.lease_owner)
        .where(OutboxMessage.status == PENDING,
               OutboxMessage.lease_owner.startswith(owner_prefix, autoescape=True),
               OutboxMessage.lease_until > now))
    return [(int(i), str(o)) for i, o in result.all()]


async def free_leases(session: AsyncSession, *, ids: list[int], owner: str) -> int:
    """Frees rows leased by ``owner`` (a process known to be dead)."""
    if not ids:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.lease_owner == owner,
               OutboxMessage.status == PENDING)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def backlog_after(session: AsyncSession, row: OutboxMessage, *, now: datetime,
                        limit: int) -> list[int]:
    """Ids of the recipient's other due, unleased rows queued after ``row``, oldest first."""
    result = await session.execute(
        select(OutboxMessage.id)
        .where(OutboxMessage.channel == row.channel,
               OutboxMessage.recipient_id == row.recipient_id,
               OutboxMessage.status == PENDING,
               OutboxMessage.id > row.id,
               OutboxMessage.next_attempt_at <= now,
               (OutboxMessage.lease_until.is_(None)) | (OutboxMessage.lease_until < now))
        .order_by(OutboxMessage.id).limit(limit))
    return [int(i) for i in result.scalars()]


async def oldest_pending(session: AsyncSession, *, now: datetime
                         ) -> dict[str, tuple[datetime, datetime | None]]:
    """Per channel: the creation time of the oldest pending row, and the due time of the
    oldest due row no dispatcher has tried yet (``None`` when there is none)."""
    oldest = dict((await session.execute(
        select(OutboxMessage.channel, func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status == PENDING)
        .group_by(OutboxMessage.channel))).tuples().all())
    untried = dict((await session.execute(
        select(OutboxMessage.channel, func.min(OutboxMessage.next_attempt_at))
        .where(OutboxMessage.status == PENDING, OutboxMessage.attempts == 0,
               OutboxMessage.next_attempt_at <= now, OutboxMessage.lease_owner.is_(None))
        .group_by(OutboxMessage.channel))).tuples().all())
    return {channel: (created, untried.get(channel)) for channel, created in oldest.items()}


async def make_replies_due(session: AsyncSession, *, message_id: int, now: datetime) -> None:
    """Makes the pending replies to one inbound message due now (a slow or replayed turn
    whose replies no passive answer will carry)."""
    from bot.core.storage.models import Message

    replies = select(Message.id).where(Message.reply_to_id == message_id)
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.message_id.in_(replies), OutboxMessage.status == PENDING)
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False))
