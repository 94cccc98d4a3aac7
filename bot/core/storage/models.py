"""ORM models: members, identities, the points ledger, purchases, conversations, messages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always hands back aware UTC values.

    SQLite keeps no zone, so naive values read back are UTC by construction.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_no: Mapped[str] = mapped_column(String(32), unique=True)
    # Personal data is stored encrypted; phone_index is a keyed hash for lookups.
    phone_enc: Mapped[str | None] = mapped_column(Text)
    phone_index: Mapped[str | None] = mapped_column(String(64), unique=True)
    name_enc: Mapped[str | None] = mapped_column(Text)
    birthday_enc: Mapped[str | None] = mapped_column(Text)
    # Keyed hash of the birthday's month and day: "whose birthday is today" without plaintext.
    birthday_index: Mapped[str | None] = mapped_column(String(64), index=True)
    address_enc: Mapped[str | None] = mapped_column(Text)
    # Set when the member's personal data was erased; the row keeps ledger totals and stats.
    erased_at: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(String(8), default="zh-Hans")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    tier: Mapped[str] = mapped_column(String(16), default="standard")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    consent_greetings: Mapped[bool] = mapped_column(Boolean, default=True)
    consent_promotions: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    identities: Mapped[list[ChannelIdentity]] = relationship(back_populates="member")


class ChannelIdentity(Base):
    """Who a sender is on one channel; bound to a member once they link their account."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    bound_at: Mapped[datetime | None]
    # Set when the platform says it will never deliver to this sender again (blocked bot).
    undeliverable_reason: Mapped[str | None] = mapped_column(String(200))
    # The customer unfollowed or opted out on the platform: nothing more is sent.
    unsubscribed_at: Mapped[datetime | None]
    # Platforms that allow bot messages only for a while after the customer's last action
    # (WeChat: 5 messages within 48 h of a message, 3 within a minute of a click or follow).
    window_opened_at: Mapped[datetime | None]
    window_kind: Mapped[str | None] = mapped_column(String(16))
    window_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member | None] = relationship(back_populates="identities")


class PointTransaction(Base):
    """One ledger entry. Earns are lots with an expiry date; the rest debit lots FIFO."""

    __tablename__ = "point_transactions"
    __table_args__ = (
        UniqueConstraint("member_id", "external_ref"),
        Index("ix_point_transactions_member_occurred", "member_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(16))  # earn | redeem | expire | adjust
    points: Mapped[int] = mapped_column(Integer)  # signed: earns positive, debits negative
    occurred_at: Mapped[datetime]
    expires_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
    # The source system's id (POS receipt, import row, redemption key): makes writes idempotent.
    external_ref: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Purchase(Base):
    """A receipt: spend and visits over the qualification window decide the tier."""

    __tablename__ = "purchases"
    __table_args__ = (
        UniqueConstraint("member_id", "external_ref"),
        Index("ix_purchases_member_occurred", "member_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    occurred_at: Mapped[datetime]
    store_code: Mapped[str | None] = mapped_column(String(64))
    external_ref: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    """The running exchange with one channel identity, and its dialogue state."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="bot")  # bot | queued | agent
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    """A message in or out. (channel, channel_message_id) is unique: redeliveries collide."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "channel_message_id"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    channel: Mapped[str] = mapped_column(String(32))
    channel_message_id: Mapped[str | None] = mapped_column(String(128))
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    intent: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float | None]
    # What the bot made of an inbound message, when it was not a plain answer: "clarify"
    # (it asked "did you mean …?") or "fallback" (it admitted it did not understand).
    outcome: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A message waiting for, or done with, delivery by a dispatcher.

    Written in the same transaction as the state that caused it. A dispatcher claims rows with
    a lease, sends them, and records ``sent`` only after the platform accepted.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_recipient", "channel", "recipient_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    recipient_id: Mapped[str] = mapped_column(String(128))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("channel_identities.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    # What caused it: a reply, an agent's message, a scheduled notification.
    purpose: Mapped[str] = mapped_column(String(16), default="reply")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    # How it went out: "api" (dispatcher) or "passive" (in the webhook's HTTP answer).
    delivered_via: Mapped[str | None] = mapped_column(String(16))
    platform_message_id: Mapped[str | None] = mapped_column(String(64))
    # Makes scheduled sends idempotent (one birthday greeting per member and year).
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class KeyValue(Base):
    """Small shared values with an expiry (platform access tokens) when Redis is not used."""

    __tablename__ = "kv_store"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None]
