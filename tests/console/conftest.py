"""Console fixtures: the real app on a fixed clock, agents of each role, signed-in clients."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI

from bot.app import Kefu
from bot.server.asgi import create_app
from tests.cases.helpers import PASSWORD, add_agent
from tests.conftest import FIXED_NOW

BASE = "http://kefu.test"
HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}
EMAILS = {"agent": "li@kefu.test", "other": "zhao@kefu.test",
          "supervisor": "wang@kefu.test", "admin": "root@kefu.test"}


@pytest.fixture
async def app(kefu: Kefu) -> FastAPI:
    application = create_app(kefu, close_on_shutdown=False)
    application.state.console_clock = lambda: FIXED_NOW
    application.state.console_poll_seconds = 0.01
    # The per-IP login limit is tested on its own; everywhere else many sign-ins come from
    # the one test client address.
    application.state.login_limiter = None
    return application


@pytest.fixture
async def team(kefu: Kefu) -> dict[str, int]:
    """Agents li (agent), zhao (agent), wang (supervisor), root (admin): their ids."""
    ids = {}
    for key, role, name in (("agent", "agent", "李华"), ("other", "agent", "赵敏"),
                            ("supervisor", "supervisor", "王静"), ("admin", "admin", "Root")):
        ids[key] = (await add_agent(kefu, email=EMAILS[key], role=role, name=name)).id
    return ids


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


class Session:
    """A signed-in browser: its client and the CSRF token of its session."""

    def __init__(self, client: httpx.AsyncClient, csrf: str) -> None:
        self.client, self.csrf = client, csrf

    async def post(self, path: str, data: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.post(path, data={"csrf": self.csrf, **(data or {})},
                                      headers=headers or HTML)

    async def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.get(path, headers=headers or HTML)


async def sign_in(client: httpx.AsyncClient, email: str,
                  password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/console/login", headers=HTML)
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token is not None
    return await client.post("/console/login", data={
        "email": email, "password": password, "login_token": token.group(1)})


async def csrf_of(client: httpx.AsyncClient) -> str:
    page = await client.get("/console/queue", headers=HTML)
    found = re.search(r'data-csrf="([^"]+)"', page.text)
    assert found is not None, page.text[:300]
    return found.group(1)


Login = Callable[[str], Awaitable[Session]]


@pytest.fixture
async def login(app: FastAPI, team: dict[str, int]) -> AsyncIterator[Login]:
    clients: list[httpx.AsyncClient] = []

    async def sign(who: str) -> Session:
        client = client_for(app)
        clients.append(client)
        response = await sign_in(client, EMAILS[who])
        assert response.status_code == 303, response.text
        return Session(client, await csrf_of(client))

    yield sign
    for client in clients:
        await client.aclose()
