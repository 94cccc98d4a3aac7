"""Every console route for anonymous users and every role; cases through another's URL."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.core.storage.models import OutboxMessage
from bot.core.storage.models_cases import CaseEvent
from bot.features.security.permissions import Action, allowed, app_routes
from tests.cases.helpers import Clock, dialogue, file_complaint
from tests.console.conftest import JSON, Login, Session

ROLES = ("agent", "supervisor", "admin")


def console_routes(app: FastAPI) -> list[tuple[str, str, Action | str | None]]:
    found = []
    for route in app_routes(app):
        if route.path.startswith("/console") and not route.mount:
            found.extend((method, route.path, route.rule)
                         for method in sorted(route.methods - {"HEAD"}))
    return found


def test_every_console_route_has_a_rule(app: FastAPI) -> None:
    routes = console_routes(app)
    assert len(routes) >= 20
    public = {(m, p) for m, p, rule in routes if rule == "public"}
    assert public == {("GET", "/console/login"), ("POST", "/console/login")}
    assert all(isinstance(rule, Action) for _, path, rule in routes if "login" not in path)


async def test_matrix(app: FastAPI, kefu: Kefu, anonymous: httpx.AsyncClient,
                      login: Login, team: dict[str, int]) -> None:
    case = await file_complaint(kefu, dialogue(kefu, Clock()))
    sessions = {role: await login(role) for role in ROLES}
    checked = 0
    # Logging out last: it ends the session the other requests use.
    routes = sorted(console_routes(app), key=lambda r: r[1] == "/console/logout")
    for method, path, rule in routes:
        if rule == "public":
            continue
        assert isinstance(rule, Action)
        concrete = path.replace("{case_id}", str(case.id)).replace(
            "{agent_id}", str(team["other"])).replace("{canned_id}", "999")
        anonymous_response = await anonymous.request(method, concrete, headers=JSON)
        assert anonymous_response.status_code == 401, f"{method} {path} anonymous"
        for role in ROLES:
            session: Session = sessions[role]
            if method == "GET":
                if path == "/console/events":
                    continue  # a stream: covered in test_live.py
                response = await session.get(concrete, headers=JSON)
            else:
                response = await session.client.request(
                    method, concrete, data={"csrf": session.csrf}, headers=JSON)
            where = f"{method} {path} as {role}"
            if allowed(role, rule):
                assert response.status_code not in (401, 403), where
            else:
                assert response.status_code == 403, where
            checked += 1
    assert checked >= 3 * 18


@pytest.mark.parametrize("action", ["claim", "reply", "note", "wait", "close", "transfer"])
async def test_another_agents_case_cannot_be_touched(kefu: Kefu, login: Login,
                                                     team: dict[str, int], action: str) -> None:
    case = await file_complaint(kefu, dialogue(kefu, Clock()))
    zhao = await login("other")
    assert (await zhao.post(f"/console/cases/{case.id}/claim")).status_code == 303
    li = await login("agent")

    async def counts() -> tuple[int, int]:
        async with transaction(kefu.sessions) as session:
            return (int(await session.scalar(select(func.count()).select_from(CaseEvent)) or 0),
                    int(await session.scalar(select(func.count()).select_from(OutboxMessage))
                        or 0))

    before = await counts()
    assert (await li.get(f"/console/cases/{case.id}")).status_code == 403
    assert (await li.get(f"/console/cases/{case.id}/timeline")).status_code == 403
    data = {"text": "hello", "code": "resolved", "agent_id": str(team["agent"])}
    response = await li.post(f"/console/cases/{case.id}/{action}", data)
    assert response.status_code == 403
    assert "another agent" in response.text
    assert await counts() == before
    # A supervisor may: it is their job to look at everyone's cases.
    wang = await login("supervisor")
    assert (await wang.get(f"/console/cases/{case.id}")).status_code == 200


async def test_agents_see_their_own_and_unclaimed_cases_only(kefu: Kefu, login: Login) -> None:
    d = dialogue(kefu, Clock())
    first = await file_complaint(kefu, d, sender="a")
    second = await file_complaint(kefu, d, sender="b")
    zhao = await login("other")
    await zhao.post(f"/console/cases/{first.id}/claim")
    li = await login("agent")
    queue = (await li.get("/console/queue")).text
    assert second.number in queue and first.number not in queue
    supervisor = (await (await login("supervisor")).get("/console/queue")).text
    assert first.number in supervisor and second.number in supervisor
