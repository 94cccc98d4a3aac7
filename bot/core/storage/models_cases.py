"""ORM models of customer feedback and human agents: cases, their events, agents, sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.storage.models import Base, utcnow


class Agent(Base):
    """A person who answers customers in the console."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))  # agent | supervisor | admin
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentSession(Base):
    """A console login. The cookie holds a random token; only its hash is stored, and a
    logout revokes the row so a copied cookie stops working."""

    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Case(Base):
    """Feedback or a request for a person: a readable number, a priority and SLA deadlines."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_priority", "status", "priority"),
        Index("ix_cases_member_created", "member_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # C-20261123-0007
    kind: Mapped[str] = mapped_column(String(16))  # complaint | suggestion | chat
    category: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    order_id: Mapped[str | None] = mapped_column(String(32))
    store_code: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(8))  # urgent | high | normal | low
    # new (nobody has it) | open (an agent has it) | pending (waiting on the customer) | closed
    status: Mapped[str] = mapped_column(String(16), default="new")
    channel: Mapped[str] = mapped_column(String(32))
    identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    language: Mapped[str] = mapped_column(String(8), default="zh-Hans")
    # The zone the SLA clock runs in: the store's, else the member's.
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Deadlines; None while paused (then the business minutes left are kept instead).
    first_response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    first_response_left: Mapped[int | None] = mapped_column(Integer)
    resolution_left: Mapped[int | None] = mapped_column(Integer)
    paused_at: Mapped[datetime | None]
    first_responded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    resolution_code: Mapped[str | None] = mapped_column(String(32))
    csat_score: Mapped[int | None] = mapped_column(Integer)
    csat_comment: Mapped[str | None] = mapped_column(Text)
    csat_at: Mapped[datetime | None]
    # When the SLA pass must next look at the case (UTC): the next warning and the next
    # deadline not yet escalated. Kept by bot.features.cases.sla_marks; None: nothing to watch.
    sla_warn_at: Mapped[datetime | None] = mapped_column(index=True)
    sla_breach_at: Mapped[datetime | None] = mapped_column(index=True)


class CaseEvent(Base):
    """Something that happened to a case: created, assigned, a reply, a note, a warning …"""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(24))
    # Who did it (None: the customer or the system).
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Makes system events idempotent (one warning per deadline).
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CannedReply(Base):
    """A prepared answer with {variables}, filled in when an agent inserts it."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(80), unique=True)
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
