"""Console sessions: a random token in the cookie, its SHA-256 in the database."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models_cases import AgentSession


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(
    session: AsyncSession, *, agent_id: int, now: datetime, lifetime: timedelta
) -> tuple[str, AgentSession]:
    """A new session; returns the cookie token (shown once, never stored) and the row."""
    token = secrets.token_urlsafe(32)
    row = AgentSession(token_hash=token_hash(token), agent_id=agent_id,
                       csrf_token=secrets.token_urlsafe(32), created_at=now, last_seen_at=now,
                       expires_at=now + lifetime)
    session.add(row)
    await session.flush()
    return token, row


async def find_session(session: AsyncSession, *, token: str) -> AgentSession | None:
    result = await session.execute(
        select(AgentSession).where(AgentSession.token_hash == token_hash(token)))
    return result.scalar_one_or_none()


def is_live(row: AgentSession, *, now: datetime, idle: timedelta) -> bool:
    return row.revoked_at is None and now < row.expires_at and now - row.last_seen_at < idle


async def revoke(session: AsyncSession, *, row: AgentSession, now: datetime) -> None:
    row.revoked_at = now


async def revoke_all(session: AsyncSession, *, agent_id: int, now: datetime) -> None:
    """Ends every session of an agent (deactivated, password or role changed)."""
    await session.execute(
        update(AgentSession)
        .where(AgentSession.agent_id == agent_id, AgentSession.revoked_at.is_(None))
        .values(revoked_at=now))
