"""The supervisor's view: each agent's load, every breach, and how the desk did lately."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console.views import Countdown, countdown
from bot.core.storage.models_cases import Agent, Case
from bot.features.cases import store
from bot.features.cases.agents import all_agents
from bot.features.cases.service import Desk

PERIOD = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class AgentLoad:
    agent: Agent
    online: bool
    open: int
    pending: int
    breached: int


@dataclass(frozen=True, slots=True)
class Breach:
    case: Case
    assignee: str | None
    countdown: Countdown


@dataclass(frozen=True, slots=True)
class DeskReport:
    loads: list[AgentLoad]
    breaches: list[Breach]
    unassigned: int
    closed: int
    resolved_in_time: float | None  # share of closed cases resolved before their deadline
    answered_in_time: float | None  # share of answered cases answered before their deadline
    csat_average: float | None
    csat_satisfied: float | None  # share of ratings 4 or 5
    rated: int


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


async def desk_report(session: AsyncSession, *, desk: Desk, now: datetime) -> DeskReport:
    active = await store.active_cases(session, limit=5000)
    agents = await all_agents(session)
    names = {a.id: a.display_name for a in agents}
    online_since = now - timedelta(minutes=desk.settings.cases.handoff.online_minutes)
    breaches: list[Breach] = []
    for case in active:
        clock = countdown(desk, case, now)
        if clock.urgency == "breached":
            breaches.append(Breach(case, names.get(case.assignee_id or 0), clock))
    breached_by: dict[int, int] = {}
    for breach in breaches:
        if breach.case.assignee_id is not None:
            breached_by[breach.case.assignee_id] = breached_by.get(breach.case.assignee_id, 0) + 1
    loads = [AgentLoad(
        agent=a,
        online=a.active and a.last_seen_at is not None and a.last_seen_at >= online_since,
        open=sum(1 for c in active if c.assignee_id == a.id and c.status == store.OPEN),
        pending=sum(1 for c in active if c.assignee_id == a.id and c.status == store.PENDING),
        breached=breached_by.get(a.id, 0)) for a in agents if a.active]
    result = await session.execute(select(Case).where(Case.status == store.CLOSED,
                                                      Case.closed_at >= now - PERIOD,
                                                      Case.resolution_code != "withdrawn"))
    closed = list(result.scalars())
    in_time = sum(1 for c in closed if c.resolution_due_at is None
                  or (c.closed_at is not None and c.closed_at <= c.resolution_due_at))
    answered = [c for c in closed if c.first_responded_at is not None]
    answered_in_time = sum(1 for c in answered if c.first_response_due_at is None
                           or (c.first_responded_at is not None
                               and c.first_responded_at <= c.first_response_due_at))
    scores = [c.csat_score for c in closed if c.csat_score is not None]
    return DeskReport(
        loads=loads,
        breaches=sorted(breaches, key=lambda b: b.countdown.due or now),
        unassigned=sum(1 for c in active if c.assignee_id is None),
        closed=len(closed),
        resolved_in_time=_share(in_time, len(closed)),
        answered_in_time=_share(answered_in_time, len(answered)),
        csat_average=sum(scores) / len(scores) if scores else None,
        csat_satisfied=_share(sum(1 for s in scores if s >= 4), len(scores)),
        rated=len(scores),
    )
