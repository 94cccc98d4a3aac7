"""Data functions for cases and their events (keyword-only; ``None`` means not found)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import correlation
from bot.core.storage.models_cases import Case, CaseEvent
from bot.core.storage.upsert import insert_ignore, insert_ignore_many
from bot.features.kpis.metrics import count_event

log = logging.getLogger("kefu.cases")
NEW, OPEN, PENDING, CLOSED = "new", "open", "pending", "closed"
ACTIVE = (NEW, OPEN, PENDING)
COMPLAINT, SUGGESTION, CHAT = "complaint", "suggestion", "chat"


def number_prefix(day: date) -> str:
    """Case numbers read C-YYYYMMDD-NNNN, the format the NLU recognises as a case id."""
    return f"C-{day:%Y%m%d}-"


async def add_case(session: AsyncSession, *, day: date, values: dict[str, Any]) -> Case:
    """Inserts a case numbered after the day's last one; a concurrent insert that took the
    number makes it try the next."""
    prefix = number_prefix(day)
    last = await session.scalar(
        select(func.max(Case.number)).where(Case.number.like(prefix + "%")))
    sequence = int(str(last).rsplit("-", 1)[1]) if last else 0
    while True:
        sequence += 1
        new_id = await insert_ignore(session, Case, {**values, "number": f"{prefix}{sequence:04d}"},
                                     conflict=["number"])
        if new_id is not None:
            case = await session.get(Case, new_id)
            assert case is not None
            return case


async def get_case(session: AsyncSession, *, case_id: int) -> Case | None:
    return await session.get(Case, case_id)


async def find_case(session: AsyncSession, *, number: str) -> Case | None:
    result = await session.execute(select(Case).where(Case.number == number.upper()))
    return result.scalar_one_or_none()


async def cases_of_customer(
    session: AsyncSession, *, member_id: int | None, identity_id: int, limit: int = 5
) -> list[Case]:
    """The customer's latest cases: the member's on every channel, or this sender's."""
    who = (or_(Case.member_id == member_id, Case.identity_id == identity_id)
           if member_id is not None else Case.identity_id == identity_id)
    result = await session.execute(
        select(Case).where(who).order_by(Case.id.desc()).limit(limit))
    return list(result.scalars())


async def active_case_of_conversation(
    session: AsyncSession, *, conversation_id: int, kind: str | None = None
) -> Case | None:
    """The conversation's latest case that is not closed."""
    query = select(Case).where(Case.conversation_id == conversation_id, Case.status.in_(ACTIVE))
    if kind is not None:
        query = query.where(Case.kind == kind)
    result = await session.execute(query.order_by(Case.id.desc()).limit(1))
    return result.scalar_one_or_none()


async def owned_cases_of_conversation(session: AsyncSession, *, conversation_id: int) -> list[Case]:
    """Cases of the conversation an agent has, open or waiting on the customer."""
    result = await session.execute(
        select(Case).where(Case.conversation_id == conversation_id,
                           Case.status.in_((OPEN, PENDING)), Case.assignee_id.is_not(None))
        .order_by(Case.id))
    return list(result.scalars())


async def waiting_chats(session: AsyncSession, *, before_id: int | None = None) -> int:
    """Live chats nobody has claimed yet (those opened before ``before_id`` when given)."""
    query = select(func.count()).select_from(Case).where(Case.kind == CHAT, Case.status == NEW)
    if before_id is not None:
        query = query.where(Case.id < before_id)
    return int(await session.scalar(query) or 0)


async def active_cases(
    session: AsyncSession, *, assignee_id: int | None = None, unassigned_too: bool = True,
    limit: int = 200,
) -> list[Case]:
    """Cases not closed, oldest first. With ``assignee_id``: that agent's
    cases, plus the unclaimed ones when ``unassigned_too``."""
    query = select(Case).where(Case.status.in_(ACTIVE))
    if assignee_id is not None:
        mine = Case.assignee_id == assignee_id
        query = query.where(or_(mine, Case.assignee_id.is_(None)) if unassigned_too else mine)
    result = await session.execute(query.order_by(Case.id).limit(limit))
    return list(result.scalars())


async def sla_due(session: AsyncSession, *, now: datetime, limit: int) -> list[Case]:
    """Cases with a warning or a deadline due by ``now`` (two index ranges, whatever the
    number of open cases)."""
    result = await session.execute(
        select(Case).where(or_(Case.sla_warn_at <= now, Case.sla_breach_at <= now))
        .limit(limit))
    return list(result.scalars())


async def cases_by_ids(session: AsyncSession, *, ids: Sequence[int]) -> list[Case]:
    if not ids:
        return []
    result = await session.execute(select(Case).where(Case.id.in_(ids)))
    return list(result.scalars())


async def add_event(
    session: AsyncSession, *, case: Case, kind: str, now: datetime, agent_id: int | None = None,
    body: str | None = None, data: dict[str, Any] | None = None, message_id: int | None = None,
    dedupe_key: str | None = None,
) -> int | None:
    """Records an event; ``None`` when ``dedupe_key`` was recorded before. The event carries
    the correlation id of the request or message that caused it."""
    values = dict(data or {})
    correlation_id = correlation.current()
    if correlation_id is not None:
        values.setdefault(correlation.KEY, correlation_id)
    new_id = await insert_ignore(session, CaseEvent, {
        "case_id": case.id, "kind": kind, "agent_id": agent_id, "body": body,
        "data": values, "message_id": message_id, "dedupe_key": dedupe_key,
        "created_at": now,
    }, conflict=["dedupe_key"])
    if new_id is not None:
        count_event(case, kind, values, now)
        log.info("case_event", extra={"case": case.number, "kind": kind})
    return new_id


def event_row(*, case: Case, kind: str, now: datetime, body: str | None = None,
              data: dict[str, Any] | None = None, dedupe_key: str | None = None
              ) -> dict[str, Any]:
    """A system event as a row for :func:`add_events`."""
    return {"case_id": case.id, "kind": kind, "agent_id": None, "body": body,
            "data": data or {}, "message_id": None, "dedupe_key": dedupe_key,
            "created_at": now}


async def add_events(session: AsyncSession, rows: list[dict[str, Any]]) -> list[str]:
    """Records many events in one statement; returns the ``dedupe_key`` of those that were
    new (one recorded before is skipped)."""
    added = await insert_ignore_many(session, CaseEvent, rows, conflict=["dedupe_key"],
                                     returning=["dedupe_key"])
    return [str(key) for (key,) in added]


async def events_of(session: AsyncSession, *, case_ids: Sequence[int]) -> list[CaseEvent]:
    if not case_ids:
        return []
    result = await session.execute(
        select(CaseEvent).where(CaseEvent.case_id.in_(case_ids)).order_by(CaseEvent.id))
    return list(result.scalars())


async def latest_event_id(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(CaseEvent.id))) or 0)


async def closed_awaiting_csat(
    session: AsyncSession, *, conversation_id: int, since: datetime
) -> Case | None:
    """The latest case of the conversation closed since ``since`` and not rated yet."""
    result = await session.execute(
        select(Case).where(Case.conversation_id == conversation_id, Case.status == CLOSED,
                           Case.csat_score.is_(None), Case.closed_at >= since)
        .order_by(Case.closed_at.desc()).limit(1))
    return result.scalar_one_or_none()
