"""What the KPIs are computed from: plain rows read from the database, and the period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` in UTC, with the label a reader knows it by (``2026Q4``)."""

    start: datetime
    end: datetime
    label: str

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class Filters:
    """Narrows the KPIs to one channel, store or feedback category (``None``: all).

    Store and category describe cases only; the bot's figures follow the channel alone.
    """

    channel: str | None = None
    store: str | None = None
    category: str | None = None

    @property
    def any(self) -> bool:
        return any((self.channel, self.store, self.category))


@dataclass(frozen=True, slots=True)
class CaseRow:
    id: int
    kind: str  # complaint | suggestion | chat
    category: str | None
    store: str | None
    channel: str
    conversation_id: int
    created_at: datetime
    first_responded_at: datetime | None
    first_response_due_at: datetime | None
    closed_at: datetime | None
    resolution_due_at: datetime | None
    # Business minutes that were left when the clock was paused (due is None meanwhile).
    resolution_left: int | None
    resolution_code: str | None
    csat_score: int | None


@dataclass(frozen=True, slots=True)
class MessageCount:
    """How many messages of one kind a channel carried in the period."""

    channel: str
    direction: str  # in | out
    intent: str | None
    outcome: str | None  # None | clarify | fallback
    count: int


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """A conversation with at least one inbound message in the period."""

    id: int
    channel: str


@dataclass(frozen=True, slots=True)
class HandoffRow:
    """A conversation queued for a person, and why (asked | misunderstood | urgent)."""

    channel: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class KpiRows:
    """Everything one period's KPIs need; cases are those created in the period."""

    cases: tuple[CaseRow, ...]
    messages: tuple[MessageCount, ...]
    conversations: tuple[ConversationRow, ...]
    handoffs: tuple[HandoffRow, ...]
