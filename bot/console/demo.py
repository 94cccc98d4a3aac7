"""Demo console accounts and canned replies for `kefu demo seed` and `kefu serve --demo`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.console.passwords import hash_password
from bot.core.storage.models_cases import CannedReply
from bot.features.cases import agents as agent_store


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    password: str
    role: str
    name: str


# Published passwords: for the demo database only; create real accounts with `kefu agents add`.
DEMO_LOGINS = (
    DemoLogin("agent@kefu.demo", "demo-agent-2026", agent_store.AGENT, "李华"),
    DemoLogin("supervisor@kefu.demo", "demo-supervisor-2026", agent_store.SUPERVISOR, "王静"),
    DemoLogin("admin@kefu.demo", "demo-admin-2026", agent_store.ADMIN, "Admin"),
)
DEMO_CANNED = (
    ("问候 Greeting", "您好，我是客服{agent}，关于工单 {case_number}，我来为您处理。"),
    ("致歉 Apology", "非常抱歉给您带来不好的体验。我们已记录工单 {case_number}，会尽快给您答复。"),
    ("积分 Points", "您目前是{tier}会员，可用积分 {points} 分。"),
)


async def seed_console(session: AsyncSession, *, now: datetime) -> list[DemoLogin]:
    """Creates the demo accounts and canned replies that are missing; returns the logins."""
    for login in DEMO_LOGINS:
        if await agent_store.find_agent(session, email=login.email) is None:
            await agent_store.add_agent(session, email=login.email, display_name=login.name,
                                        role=login.role,
                                        password_hash=hash_password(login.password), now=now)
    for title, body in DEMO_CANNED:
        if await agent_store.find_canned(session, title=title) is None:
            session.add(CannedReply(title=title, body=body, updated_at=now))
    await session.flush()
    return list(DEMO_LOGINS)


def login_lines() -> list[str]:
    """What the CLI prints so someone trying the demo can sign in to the console."""
    return [f"  {login.role:<10} {login.email}  password: {login.password}"
            for login in DEMO_LOGINS]
