"""Self-service models: binding codes and records, profile changes, channel opt-outs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.storage.models import Base, utcnow


class BindingChallenge(Base):
    """One phone number a sender asked to bind (or to move their membership to).

    Only a keyed hash of the phone and of the code are kept. Rows without a code record
    refused requests (unknown number, rate limit): they count against the sender's limit.
    """

    __tablename__ = "binding_challenges"
    __table_args__ = (
        Index("ix_binding_challenges_identity_created", "identity_id", "created_at"),
        Index("ix_binding_challenges_phone_created", "phone_index", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    purpose: Mapped[str] = mapped_column(String(16))  # bind | phone
    phone_index: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # sent | unknown | refused | limited
    code_hash: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BindingEvent(Base):
    """A channel identity bound to or unbound from a member: who, how, when."""

    __tablename__ = "binding_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))  # bind | unbind
    method: Mapped[str] = mapped_column(String(16))  # sms | contact | member | replaced
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProfileChange(Base):
    """That a member changed a profile field, and when (never the values themselves)."""

    __tablename__ = "profile_changes"
    __table_args__ = (Index("ix_profile_changes_member_field", "member_id", "field", "changed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    field: Mapped[str] = mapped_column(String(16))  # name | birthday | language | address | phone
    channel: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelOptOut(Base):
    """A sender who asked, on this channel, to receive no more messages of ``topic``."""

    __tablename__ = "channel_opt_outs"
    __table_args__ = (UniqueConstraint("identity_id", "topic"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id"))
    topic: Mapped[str] = mapped_column(String(16))  # greetings | promotions
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
