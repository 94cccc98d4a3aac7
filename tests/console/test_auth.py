"""Signing in: argon2 passwords, lockout, session cookies, login CSRF, logout for good."""

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from bot.app import Kefu
from bot.cases.agents import find_agent
from bot.security.http import install_security
from bot.storage.db import transaction
from bot.storage.models_cases import AgentSession
from tests.cases.helpers import PASSWORD
from tests.conftest import FIXED_NOW
from tests.console.conftest import EMAILS, HTML, JSON, Login, client_for, csrf_of, sign_in


async def test_sign_in_sets_a_strict_http_only_cookie(anonymous: httpx.AsyncClient,
                                                      team: dict[str, int]) -> None:
    response = await sign_in(anonymous, EMAILS["agent"])
    assert response.status_code == 303 and response.headers["location"] == "/console/queue"
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie"
                  and v.startswith("kefu_console="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    page = await anonymous.get("/console/queue", headers=HTML)
    assert page.status_code == 200 and "李华" in page.text


async def test_passwords_are_stored_as_argon2_hashes(kefu: Kefu, team: dict[str, int]) -> None:
    async with transaction(kefu.sessions) as session:
        agent = await find_agent(session, email=EMAILS["agent"])
    assert agent is not None
    assert agent.password_hash.startswith("$argon2id$") and PASSWORD not in agent.password_hash


async def test_wrong_password_then_lockout(kefu: Kefu, anonymous: httpx.AsyncClient,
                                           team: dict[str, int]) -> None:
    for attempt in range(4):
        response = await sign_in(anonymous, EMAILS["agent"], "wrong-password-1")
        assert response.status_code == 401, attempt
        assert "邮箱或密码错误" in response.text
    fifth = await sign_in(anonymous, EMAILS["agent"], "wrong-password-1")
    assert fifth.status_code == 423 and "锁定" in fifth.text
    # Locked: even the right password is refused now.
    assert (await sign_in(anonymous, EMAILS["agent"])).status_code == 423
    async with transaction(kefu.sessions) as session:
        agent = await find_agent(session, email=EMAILS["agent"])
        assert agent is not None and agent.locked_until == FIXED_NOW + timedelta(minutes=15)


async def test_unknown_email_looks_like_a_wrong_password(anonymous: httpx.AsyncClient,
                                                         team: dict[str, int]) -> None:
    response = await sign_in(anonymous, "nobody@kefu.test")
    assert response.status_code == 401 and "邮箱或密码错误" in response.text


async def test_sign_in_without_the_form_token_is_refused(anonymous: httpx.AsyncClient,
                                                         team: dict[str, int]) -> None:
    # Login CSRF: another site posting a sign-in form has no valid token and no cookie.
    response = await anonymous.post("/console/login", data={
        "email": EMAILS["agent"], "password": PASSWORD, "login_token": "forged"})
    assert response.status_code == 403 and "kefu_console" not in response.headers.get(
        "set-cookie", "")


async def test_logout_revokes_the_session_and_a_replayed_cookie_fails(
        app: FastAPI, login: Login) -> None:
    me = await login("agent")
    cookie = me.client.cookies.get("kefu_console")
    assert cookie
    response = await me.post("/console/logout")
    assert response.status_code == 303 and response.headers["location"] == "/console/login"
    async with client_for(app) as thief:
        thief.cookies.set("kefu_console", cookie, domain="kefu.test", path="/console")
        assert (await thief.get("/console/queue", headers=JSON)).status_code == 401
        redirected = await thief.get("/console/queue", headers=HTML)
        assert redirected.status_code == 303
        assert redirected.headers["location"] == "/console/login"


async def test_idle_and_absolute_expiry(app: FastAPI, kefu: Kefu, login: Login) -> None:
    me = await login("agent")
    app.state.console_clock = lambda: FIXED_NOW + timedelta(minutes=119)
    assert (await me.get("/console/queue")).status_code == 200
    app.state.console_clock = lambda: FIXED_NOW + timedelta(minutes=119 + 121)
    assert (await me.get("/console/queue", headers=JSON)).status_code == 401
    async with transaction(kefu.sessions) as session:
        row = (await session.execute(select(AgentSession))).scalars().first()
        assert row is not None and row.expires_at == FIXED_NOW + timedelta(hours=12)


async def test_deactivated_agents_are_signed_out(login: Login, team: dict[str, int]) -> None:
    admin = await login("admin")
    agent = await login("agent")
    response = await admin.post(f"/console/admin/agents/{team['agent']}",
                                {"role": "agent", "active": ""})
    assert response.status_code == 303
    assert (await agent.get("/console/queue", headers=JSON)).status_code == 401
    assert (await sign_in(agent.client, EMAILS["agent"])).status_code == 401


async def test_the_ip_limit_applies_to_sign_ins(app: FastAPI, kefu: Kefu,
                                                team: dict[str, int]) -> None:
    fresh = FastAPI()
    install_security(fresh, kefu.settings)
    app.state.login_limiter = fresh.state.login_limiter  # 5 per 5 minutes per address
    async with client_for(app) as client:
        codes = [(await sign_in(client, EMAILS["other"], "nope-nope-1")).status_code
                 for _ in range(6)]
    assert codes[-1] == 429


async def test_csrf_token_is_per_session(login: Login) -> None:
    first = await login("agent")
    second = await login("agent")
    assert first.csrf != second.csrf
    assert first.csrf == await csrf_of(first.client)
