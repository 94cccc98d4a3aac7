"""Data functions for agents, their roles and canned replies (keyword-only; None = not found)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models_cases import Agent, CannedReply, Case

AGENT: Final = "agent"
SUPERVISOR: Final = "supervisor"
ADMIN: Final = "admin"
ROLES: Final[tuple[str, ...]] = (AGENT, SUPERVISOR, ADMIN)
_RANK = {AGENT: 1, SUPERVISOR: 2, ADMIN: 3}


def at_least(role: str, minimum: str) -> bool:
    """Whether ``role`` includes what ``minimum`` may do (admin ⊇ supervisor ⊇ agent)."""
    return _RANK.get(role, 0) >= _RANK[minimum]


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def add_agent(
    session: AsyncSession, *, email: str, display_name: str, role: str, password_hash: str,
    now: datetime,
) -> Agent:
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    agent = Agent(email=normalise_email(email), display_name=display_name, role=role,
                  password_hash=password_hash, active=True, failed_logins=0, created_at=now)
    session.add(agent)
    await session.flush()
    return agent


async def get_agent(session: AsyncSession, *, agent_id: int) -> Agent | None:
    return await session.get(Agent, agent_id)


async def find_agent(session: AsyncSession, *, email: str) -> Agent | None:
    result = await session.execute(select(Agent).where(Agent.email == normalise_email(email)))
    return result.scalar_one_or_none()


async def all_agents(session: AsyncSession, *, active_only: bool = False) -> list[Agent]:
    query = select(Agent).order_by(Agent.display_name, Agent.id)
    if active_only:
        query = query.where(Agent.active.is_(True))
    return list((await session.execute(query)).scalars())


async def agents_online(session: AsyncSession, *, now: datetime, within: timedelta) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(Agent).where(
            Agent.active.is_(True), Agent.last_seen_at >= now - within)) or 0)


async def supervisors(session: AsyncSession) -> list[Agent]:
    result = await session.execute(
        select(Agent).where(Agent.active.is_(True), Agent.role.in_((SUPERVISOR, ADMIN)))
        .order_by(Agent.id))
    return list(result.scalars())


async def load_by_agent(session: AsyncSession, *, statuses: tuple[str, ...]) -> dict[int, int]:
    """How many cases in ``statuses`` each agent holds."""
    result = await session.execute(
        select(Case.assignee_id, func.count()).where(
            Case.status.in_(statuses), Case.assignee_id.is_not(None))
        .group_by(Case.assignee_id))
    return {int(agent_id): int(count) for agent_id, count in result.all()
            if agent_id is not None}


async def canned_replies(session: AsyncSession) -> list[CannedReply]:
    result = await session.execute(select(CannedReply).order_by(CannedReply.title))
    return list(result.scalars())


async def get_canned(session: AsyncSession, *, canned_id: int) -> CannedReply | None:
    return await session.get(CannedReply, canned_id)


async def find_canned(session: AsyncSession, *, title: str) -> CannedReply | None:
    result = await session.execute(select(CannedReply).where(CannedReply.title == title))
    return result.scalar_one_or_none()
