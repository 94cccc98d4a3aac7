"""Proactive care models: campaigns and their recipients, after-sales surveys, shared rate
limits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.storage.models import Base, utcnow


class Campaign(Base):
    """An invitation or promotion to a segment of members, now or at a set time."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # scheduled → sending → done; cancelled from either of the first two.
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    # The segment's filters as given (bot/features/proactive/segments.py reads them).
    segment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The text per language; {name}, {tier} and {points} are filled in per member.
    texts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    send_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # Members queued or skipped so far, and the highest member id handled (resumes a crash).
    recipients: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cursor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CampaignRecipient(Base):
    """One member of a campaign's segment: queued (with its outbox row) or skipped, and why."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (UniqueConstraint("campaign_id", "member_id"),
                      Index("ix_campaign_recipients_campaign_status", "campaign_id", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    status: Mapped[str] = mapped_column(String(16))  # queued | skipped
    reason: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(32))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"),
                                                  index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Survey(Base):
    """The after-sales survey of one purchase: asked once, answered 1–5 with a comment."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("channel_identities.id"))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))


class RateSlot(Base):
    """One of the ``limit`` most recent sends of a shared rate limit (without Redis): a send
    takes the oldest slot once it is older than the window, so no window holds more."""

    __tablename__ = "rate_slots"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    used_at: Mapped[float] = mapped_column(Float, default=0.0)
