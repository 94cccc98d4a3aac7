"""Console login: passwords, session cookies, and who is asking (the
authenticator bot.features.security.permissions calls for every guarded route)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.console import sessions
from bot.console.passwords import hash_password, needs_rehash, verify_password
from bot.core.storage.db import transaction
from bot.core.storage.models_cases import Agent
from bot.features.cases import agents as agent_store
from bot.features.security.console_settings import ConsoleSettings
from bot.features.security.permissions import Principal, Role
from bot.settings import Settings

COOKIE = "kefu_console"
COOKIE_PATH = "/console"
# Writing last_seen on every request would make each page view a write; a minute is enough
# for idle timeouts and "agents online".
_TOUCH_EVERY = timedelta(minutes=1)

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in agent of one request (a value: safe to keep after the session closed)."""

    agent_id: int
    email: str
    name: str
    role: str
    csrf: str
    session_id: int

    @property
    def principal(self) -> Principal:
        return Principal(actor=f"agent:{self.email}", role=Role(self.role))


@dataclass(frozen=True, slots=True)
class LoginResult:
    agent: Agent | None = None
    token: str | None = None
    error: str | None = None
    locked_until: datetime | None = None


async def log_in(session: AsyncSession, *, email: str, password: str, settings: ConsoleSettings,
                 now: datetime) -> LoginResult:
    """Checks the password. Nothing is locked here: guessing is slowed down before this is
    called (bot.features.security.login_throttle), so an attacker cannot lock an agent out."""
    agent = await agent_store.find_agent(session, email=email)
    good = verify_password(agent.password_hash if agent else None, password)
    if agent is None or not agent.active or not good:
        if agent is not None and not good:
            agent.failed_logins += 1  # shown to admins; it locks nothing
        return LoginResult(error="wrong")
    agent.failed_logins = 0
    agent.locked_until = None
    agent.last_login_at = agent.last_seen_at = now
    if needs_rehash(agent.password_hash):
        agent.password_hash = hash_password(password)
    token, _row = await sessions.start_session(
        session, agent_id=agent.id, now=now, lifetime=timedelta(hours=settings.session_hours))
    return LoginResult(agent=agent, token=token)


def secure_cookies(request: Request, settings: Settings) -> bool:
    mode = settings.console.secure_cookies
    if mode != "auto":
        return mode == "always"
    return request.url.scheme == "https" or settings.is_production


def set_session_cookie(response: Response, request: Request, settings: Settings,
                       token: str) -> None:
    response.set_cookie(COOKIE, token, max_age=settings.console.session_hours * 3600,
                        path=COOKIE_PATH, httponly=True, samesite="strict",
                        secure=secure_cookies(request, settings))


def clear_session_cookie(response: Response, request: Request, settings: Settings) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict",
                           secure=secure_cookies(request, settings))


def make_authenticator(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> Callable[[Request], Awaitable[Principal | None]]:
    """Who sent ``request``: the live session its cookie names, or nobody."""
    idle = timedelta(minutes=settings.console.idle_minutes)

    async def authenticate(request: Request) -> Principal | None:
        known: Actor | None = getattr(request.state, "console", None)
        if known is not None:
            return known.principal
        token = request.cookies.get(COOKIE)
        if not token or len(token) > 200:
            return None
        now = clock()
        async with transaction(sessionmaker) as session:
            row = await sessions.find_session(session, token=token)
            if row is None or not sessions.is_live(row, now=now, idle=idle):
                return None
            agent = await agent_store.get_agent(session, agent_id=row.agent_id)
            if agent is None or not agent.active:
                return None
            if now - row.last_seen_at >= _TOUCH_EVERY:
                row.last_seen_at = now
                agent.last_seen_at = now
            actor = Actor(agent.id, agent.email, agent.display_name, agent.role,
                          row.csrf_token, row.id)
        request.state.console = actor
        return actor.principal

    return authenticate
