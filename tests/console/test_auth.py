"""Signing in: argon2 passwords, throttling, session cookies, login CSRF, logout for good."""

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.core.storage.models_cases import AgentSession
from bot.features.cases.agents import find_agent
from bot.features.security.http import build_login_throttle
from bot.features.security.login_throttle import LoginThrottle, MemoryThrottleStore, ThrottleRules
from tests.cases.helpers import PASSWORD, add_agent
from tests.conftest import FIXED_NOW
from tests.console.conftest import EMAILS, HTML, JSON, Login, client_for, csrf_of, sign_in


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def client_at(app: FastAPI, ip: str) -> httpx.AsyncClient:
    """A browser at ``ip``."""
    transport = httpx.ASGITransport(app=app, client=(ip, 50_000))
    return httpx.AsyncClient(transport=transport, base_url="http://kefu.test")


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


async def test_wrong_passwords_slow_down_and_lock_nothing(
        app: FastAPI, kefu: Kefu, team: dict[str, int]) -> None:
    clock = FakeClock()
    app.state.login_limiter = LoginThrottle(MemoryThrottleStore(clock), ThrottleRules(), clock)
    async with client_at(app, "203.0.113.9") as guesser:
        for attempt in range(5):
            response = await sign_in(guesser, EMAILS["agent"], "wrong-password-1")
            assert response.status_code == 401, attempt
            assert "邮箱或密码错误" in response.text
        # The sixth try must wait, and its password is not even checked.
        sixth = await sign_in(guesser, EMAILS["agent"])
        assert sixth.status_code == 429 and sixth.headers["retry-after"] == "1"
        clock.now += 1
        assert (await sign_in(guesser, EMAILS["agent"])).status_code == 303
    async with transaction(kefu.sessions) as session:
        agent = await find_agent(session, email=EMAILS["agent"])
        assert agent is not None and agent.locked_until is None


async def test_failures_from_many_addresses_do_not_lock_the_agent_out(
        app: FastAPI, team: dict[str, int]) -> None:
    clock = FakeClock()
    app.state.login_limiter = LoginThrottle(MemoryThrottleStore(clock), ThrottleRules(), clock)
    async with client_at(app, "192.0.2.10") as office:
        assert (await sign_in(office, EMAILS["agent"])).status_code == 303
    for n in range(12):  # wrong passwords from twelve addresses
        async with client_at(app, f"198.51.100.{n}") as attacker:
            response = await sign_in(attacker, EMAILS["agent"], "wrong-password-1")
            assert response.status_code in (401, 429), response.status_code
    async with client_at(app, "192.0.2.10") as office:
        assert (await sign_in(office, EMAILS["agent"])).status_code == 303


async def test_an_office_behind_one_address_signs_in_every_agent(
        app: FastAPI, kefu: Kefu) -> None:
    app.state.login_limiter = build_login_throttle(kefu.settings)
    for n in range(12):
        await add_agent(kefu, email=f"agent{n}@kefu.test", name=f"Agent {n}")
    async with client_at(app, "192.0.2.10") as office:
        # A typo first (it counts for that agent only), then the right password.
        assert (await sign_in(office, "agent0@kefu.test", "typo-typo-1")).status_code == 401
        codes = [(await sign_in(office, f"agent{n}@kefu.test")).status_code for n in range(12)]
    assert codes == [303] * 12


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


async def test_one_address_spraying_many_accounts_is_slowed(
        app: FastAPI, kefu: Kefu, team: dict[str, int]) -> None:
    app.state.login_limiter = build_login_throttle(kefu.settings)  # 20 failures per address
    async with client_at(app, "203.0.113.7") as client:
        codes = [(await sign_in(client, f"user{n}@kefu.test", "Spring2026!")).status_code
                 for n in range(21)]
    assert codes == [401] * 20 + [429]


async def test_csrf_token_is_per_session(login: Login) -> None:
    first = await login("agent")
    second = await login("agent")
    assert first.csrf != second.csrf
    assert first.csrf == await csrf_of(first.client)
