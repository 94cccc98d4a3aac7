"""Prometheus series of the desk and the bot: cases, SLA, CSAT, handoffs, NLU confidence,
and outbox messages by purpose (campaigns among them). Counters move as things happen;
gauges are read from the database when /metrics is scraped, so every process reports the same."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models import OutboxMessage
from bot.core.storage.models_cases import Case

CASES_OPENED = Counter("kefu_cases_opened_total", "Cases filed", ["kind", "channel"])
CASES_CLOSED = Counter("kefu_cases_closed_total", "Cases closed, and whether within the SLA",
                       ["kind", "within_sla"])
CSAT_RATINGS = Counter("kefu_csat_ratings_total", "Satisfaction ratings given", ["score"])
HANDOFFS = Counter("kefu_handoffs_total", "Conversations queued for a person", ["reason"])
NLU_CONFIDENCE = Histogram("kefu_nlu_confidence", "Confidence of the best intent per message",
                           ["channel"], buckets=(0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8,
                                                 0.9, 0.95, 1.0))
CASES_ACTIVE = Gauge("kefu_cases_active", "Cases not closed", ["kind", "status"])
CASES_OVERDUE = Gauge("kefu_cases_overdue", "Active cases past an SLA deadline", ["deadline"])
OUTBOX_BY_PURPOSE = Gauge("kefu_outbox_messages", "Outbox messages by purpose and status "
                          "(purpose campaign: campaign sends)", ["purpose", "status"])


def closed_within_sla(case: Case, now: datetime) -> bool:
    if case.resolution_due_at is not None:
        return now <= case.resolution_due_at
    return case.resolution_left is None or case.resolution_left > 0


def count_event(case: Case, kind: str, data: dict[str, Any], now: datetime) -> None:
    """Moves the counters for a case event just recorded."""
    if kind == "created":
        CASES_OPENED.labels(case.kind, case.channel).inc()
    elif kind == "closed":
        CASES_CLOSED.labels(case.kind, str(closed_within_sla(case, now)).lower()).inc()
    elif kind == "csat":
        CSAT_RATINGS.labels(str(data.get("score", ""))).inc()
    elif kind == "queued":
        HANDOFFS.labels(str(data.get("reason", "unknown"))).inc()


async def refresh(session: AsyncSession, *, now: datetime) -> None:
    """Sets the gauges from the database (called at scrape time)."""
    CASES_ACTIVE.clear()
    active = await session.execute(
        select(Case.kind, Case.status, func.count(Case.id)).where(Case.status != "closed")
        .group_by(Case.kind, Case.status))
    for kind, status, count in active.all():
        CASES_ACTIVE.labels(kind, status).set(count)
    first = await session.scalar(select(func.count(Case.id)).where(
        Case.status != "closed", Case.first_responded_at.is_(None),
        Case.first_response_due_at < now))
    resolution = await session.scalar(select(func.count(Case.id)).where(
        Case.status != "closed", Case.resolution_due_at < now))
    CASES_OVERDUE.labels("first_response").set(first or 0)
    CASES_OVERDUE.labels("resolution").set(resolution or 0)
    OUTBOX_BY_PURPOSE.clear()
    rows = await session.execute(
        select(OutboxMessage.purpose, OutboxMessage.status, func.count(OutboxMessage.id))
        .group_by(OutboxMessage.purpose, OutboxMessage.status))
    for purpose, status, count in rows.all():
        OUTBOX_BY_PURPOSE.labels(purpose, status).set(count)
