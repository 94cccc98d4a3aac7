"""Reads one period's KPI rows from the database (computed in bot/features/kpis/compute.py)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models import Conversation, Message
from bot.core.storage.models_cases import Case, CaseEvent
from bot.features.kpis.rows import (
    CaseRow,
    ConversationRow,
    HandoffRow,
    KpiRows,
    MessageCount,
    Period,
)

QUEUED_EVENT = "queued"


async def load_rows(session: AsyncSession, *, period: Period) -> KpiRows:
    """Cases created, messages and handoffs in ``[period.start, period.end)``."""
    start, end = period.start, period.end
    cases = (await session.execute(
        select(Case).where(Case.created_at >= start, Case.created_at < end)
        .order_by(Case.id))).scalars()
    case_rows = tuple(CaseRow(
        id=c.id, kind=c.kind, category=c.category, store=c.store_code, channel=c.channel,
        conversation_id=c.conversation_id, created_at=c.created_at,
        first_responded_at=c.first_responded_at, first_response_due_at=c.first_response_due_at,
        closed_at=c.closed_at, resolution_due_at=c.resolution_due_at,
        resolution_left=c.resolution_left, resolution_code=c.resolution_code,
        csat_score=c.csat_score) for c in cases)
    counted = await session.execute(
        select(Message.channel, Message.direction, Message.intent, Message.outcome,
               func.count(Message.id))
        .where(Message.created_at >= start, Message.created_at < end)
        .group_by(Message.channel, Message.direction, Message.intent, Message.outcome))
    messages = tuple(MessageCount(channel, direction, intent, outcome, int(count))
                     for channel, direction, intent, outcome, count in counted.all())
    active = await session.execute(
        select(Conversation.id, Conversation.channel)
        .where(Conversation.id.in_(
            select(Message.conversation_id).where(
                Message.direction == "in", Message.created_at >= start, Message.created_at < end)))
        .order_by(Conversation.id))
    conversations = tuple(ConversationRow(cid, channel) for cid, channel in active.all())
    queued = await session.execute(
        select(Case.channel, CaseEvent.data, CaseEvent.created_at)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.kind == QUEUED_EVENT, CaseEvent.created_at >= start,
               CaseEvent.created_at < end)
        .order_by(CaseEvent.id))
    handoffs = tuple(HandoffRow(channel, str((data or {}).get("reason") or "unknown"), at)
                     for channel, data, at in queued.all())
    return KpiRows(case_rows, messages, conversations, handoffs)
