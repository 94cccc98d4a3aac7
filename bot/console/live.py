"""Server-Sent Events for the console: "something changed" and SLA notifications.

The stream polls two cheap maxima (newest message, newest case event) so it sees changes
made by any process sharing the database, not only this one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.console import sessions
from bot.console.auth import Actor
from bot.console.labels import deadline_text
from bot.core.storage.models import Message
from bot.core.storage.models_cases import AgentSession, Case, CaseEvent
from bot.features.cases.agents import at_least

NOTIFYING = ("sla_warning", "sla_breach")
HEARTBEAT = timedelta(seconds=15)


def sse(event: str, data: object, *, event_id: int | None = None) -> str:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False))
    return "\n".join(lines) + "\n\n"


async def _version(session: AsyncSession) -> tuple[int, int]:
    messages = await session.scalar(select(func.max(Message.id)))
    events = await session.scalar(select(func.max(CaseEvent.id)))
    return int(messages or 0), int(events or 0)


async def _notifications(session: AsyncSession, *, actor: Actor,
                         after: int) -> list[tuple[CaseEvent, str]]:
    result = await session.execute(
        select(CaseEvent, Case.number).join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.id > after, CaseEvent.kind.in_(NOTIFYING)).order_by(CaseEvent.id))
    mine: list[tuple[CaseEvent, str]] = []
    for event, number in result.all():
        data = event.data or {}
        if data.get("to") == actor.agent_id or (
                data.get("to_role") and at_least(actor.role, str(data["to_role"]))):
            mine.append((event, str(number)))
    return mine


async def console_stream(
    sessionmaker: async_sessionmaker[AsyncSession], *, actor: Actor,
    clock: Callable[[], datetime], idle: timedelta, interval: float,
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    """Yields events until the client leaves or its session ends (logout, expiry)."""
    last: tuple[int, int] | None = None
    notified: int | None = None
    beat = clock()
    yield "retry: 3000\n\n"
    while not await disconnected():
        async with sessionmaker() as session:
            row = await session.get(AgentSession, actor.session_id)
            if row is None or not sessions.is_live(row, now=clock(), idle=idle):
                yield sse("signed_out", {})
                return
            version = await _version(session)
            if notified is None:
                notified = version[1]
            fresh = await _notifications(session, actor=actor, after=notified)
        if version != last:
            yield sse("changed", {"messages": version[0], "events": version[1]})
            last = version
        for event, number in fresh:
            yield sse("notify", {"kind": event.kind, "case": number, "case_id": event.case_id,
                                 "text": deadline_text(event.body or "")}, event_id=event.id)
            notified = max(notified, event.id)
        if clock() - beat >= HEARTBEAT:
            beat = clock()
            yield ": ping\n\n"
        await asyncio.sleep(interval)
