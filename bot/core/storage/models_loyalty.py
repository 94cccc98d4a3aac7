"""Loyalty engine models: receipts from tills and shops, their API keys, reward stock, vouchers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.storage.models import Base, utcnow


class LoyaltyReceipt(Base):
    """A purchase or refund as a source system reported it, and the answer Kefu gave.

    ``ref`` is the source's reference and unique across all sources: a repeat is recognised by
    it and answered from this row, so it changes nothing.
    """

    __tablename__ = "loyalty_receipts"
    __table_args__ = (Index("ix_loyalty_receipts_purchase_ref", "purchase_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # purchase | refund
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    # Refunds: the purchase they return (its ref).
    purchase_ref: Mapped[str | None] = mapped_column(String(128))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    store_code: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    # The tier the purchase earned at (at its time), and the signed points it moved.
    tier: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer)
    # The balance right after, as answered; a repeat answers the same.
    balance: Mapped[int] = mapped_column(Integer)
    # SHA-256 of the request's meaning, so a ref reused for something else is refused.
    digest: Mapped[str] = mapped_column(String(64))
    # Which integration key sent it, or "import".
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Integration(Base):
    """An API key of a till or shop system. Only a hash of the secret is kept."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class SeenSignature(Base):
    """Signatures accepted within the replay window: the same signed request twice is a
    replay and refused."""

    __tablename__ = "api_seen_signatures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signature: Mapped[str] = mapped_column(String(64), unique=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class RewardStock(Base):
    """What is left of a reward with a limited stock (``rewards[].stock`` in config.yml)."""

    __tablename__ = "reward_stock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    # The stock config.yml gave when last synchronised: raising it there adds the difference.
    configured: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MemberVoucher(Base):
    """A tier voucher put into a member's rewards, once per member, voucher and period."""

    __tablename__ = "member_vouchers"
    __table_args__ = (UniqueConstraint("member_id", "code", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    code: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))  # "2026" or "2026-11"
    tier: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class PointsSnapshot(Base):
    """A member's ledger replayed up to ``through_at``: a long ledger is then read from there
    on. Valid only while exactly ``entries`` ledger rows are dated up to ``through_at`` (a
    backdated entry invalidates it) and for the zone it was replayed in."""

    __tablename__ = "points_snapshots"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    zone: Mapped[str] = mapped_column(String(64))
    through_at: Mapped[datetime]
    entries: Mapped[int] = mapped_column(Integer)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
