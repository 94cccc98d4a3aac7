"""The authorization matrix: every route of the real app × every role, anonymous included."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request

from bot.app import Kefu
from bot.core import audit
from bot.core.storage.db import transaction
from bot.features.security.permissions import (
    GRANTS,
    Action,
    Principal,
    Role,
    allowed,
    app_routes,
    require,
    set_authenticator,
    undeclared_routes,
)
from bot.server.asgi import create_app

ROLES: list[Role | None] = [None, *Role]


async def _by_header(request: Request) -> Principal | None:
    role = request.headers.get("x-test-role")
    return Principal(actor=f"agent:test-{role}", role=Role(role)) if role else None


@pytest.fixture
async def app(kefu: Kefu) -> FastAPI:
    application = create_app(kefu, close_on_shutdown=False)
    set_authenticator(application, _by_header)
    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kefu.test") as c:
        yield c


def test_every_route_is_guarded_or_declared_public(app: FastAPI) -> None:
    assert undeclared_routes(app) == []


def test_a_new_route_without_a_rule_is_caught(app: FastAPI) -> None:
    @app.get("/api/forgotten")
    async def forgotten() -> dict[str, str]:
        return {}

    @app.get("/api/guarded", dependencies=[require(Action.VIEW_AUDIT)])
    async def guarded() -> dict[str, str]:
        return {}

    assert undeclared_routes(app) == ["/api/forgotten"]


def test_grants_are_least_privilege() -> None:
    assert not allowed(Role.AGENT, Action.VIEW_PII_UNMASKED)
    assert not allowed(Role.AGENT, Action.EXPORT_MEMBER)
    assert not allowed(Role.SUPERVISOR, Action.ERASE_MEMBER)
    assert allowed(Role.ADMIN, Action.ERASE_MEMBER)
    assert not allowed(None, Action.VIEW_MEMBER) and not allowed("root", Action.VIEW_MEMBER)
    assert GRANTS[Role.AGENT] < GRANTS[Role.SUPERVISOR] < GRANTS[Role.ADMIN] <= GRANTS[
        Role.OPERATOR]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "M000001", path)


async def test_matrix_of_routes_and_roles(app: FastAPI, client: httpx.AsyncClient) -> None:
    routes = app_routes(app)
    assert {"/healthz", "/webhooks/rest/webhook", "/api/audit"} <= {r.path for r in routes}
    guarded_checked = 0
    for route in routes:
        if route.mount:
            response = await client.get(route.path + "/chat.js")
            assert response.status_code == 200, route.path
            continue
        for method in sorted(route.methods - {"HEAD"}):
            path = _concrete(route.path)
            for role in ROLES:
                headers = {"x-test-role": role.value} if role else {}
                response = await client.request(method, path, headers=headers,
                                                json={} if method == "POST" else None)
                where = f"{method} {route.path} as {role or 'anonymous'}"
                if route.rule == "public":
                    assert response.status_code not in (401, 403), where
                    continue
                if route.rule == "signed":  # an integration's signature, never a role
                    assert response.status_code == 401, where
                    continue
                assert isinstance(route.rule, Action), where
                guarded_checked += 1
                if role is None:
                    assert response.status_code == 401, where
                elif allowed(role, route.rule):
                    assert response.status_code not in (401, 403), where
                else:
                    assert response.status_code == 403, where
                    assert "may not" in response.json()["error"]
    assert guarded_checked >= len(ROLES) * 2  # the audit search and the export at least


async def test_a_refusal_is_audited(kefu: Kefu, client: httpx.AsyncClient) -> None:
    response = await client.post("/api/members/M000001/export", headers={"x-test-role": "agent"})
    assert response.status_code == 403
    async with transaction(kefu.sessions) as session:
        (entry,) = await audit.search(session, action=audit.ACCESS_DENIED)
    assert entry.actor == "agent:test-agent"
    assert entry.detail == {"needed": "export_member", "role": "agent"}
