"""Supervision (load, breaches, satisfaction) and administration (agents, canned replies)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import IntegrityError

from bot.console import sessions
from bot.console.auth import Actor
from bot.console.canned import VARIABLES, unknown_variables
from bot.console.passwords import check_strength, hash_password
from bot.console.stats import desk_report
from bot.console.web import acting, desk_of, kefu_of, now_of, problem, render, viewing
from bot.core import audit
from bot.core.storage.db import transaction
from bot.core.storage.models_cases import CannedReply
from bot.features.cases import agents as agent_store
from bot.features.security.permissions import Action

router = APIRouter()
Supervisor = Annotated[Actor, viewing(Action.SUPERVISE_CASES)]
AgentAdmin = Annotated[Actor, viewing(Action.MANAGE_AGENTS)]
AgentAdminDoing = Annotated[Actor, acting(Action.MANAGE_AGENTS)]
CannedAdmin = Annotated[Actor, viewing(Action.MANAGE_CANNED_REPLIES)]
CannedAdminDoing = Annotated[Actor, acting(Action.MANAGE_CANNED_REPLIES)]


@router.get("/console/supervisor", include_in_schema=False)
async def supervisor_page(request: Request, _actor: Supervisor) -> Response:
    async with transaction(kefu_of(request).sessions) as session:
        report = await desk_report(session, desk=desk_of(request), now=now_of(request))
    return render(request, "supervisor.html", report=report)


async def _agents_page(request: Request, *, error: str | None = None,
                       status_code: int = 200) -> Response:
    async with transaction(kefu_of(request).sessions) as session:
        agents = await agent_store.all_agents(session)
    return render(request, "agents.html", status_code=status_code, agents=agents,
                  roles=agent_store.ROLES, error=error)


@router.get("/console/admin/agents", include_in_schema=False)
async def agents_page(request: Request, _actor: AgentAdmin) -> Response:
    return await _agents_page(request)


@router.post("/console/admin/agents", include_in_schema=False)
async def add_agent(
    request: Request, actor: AgentAdminDoing,
    email: Annotated[str, Form(max_length=254)], display_name: Annotated[str, Form(max_length=100)],
    role: Annotated[str, Form(max_length=16)], password: Annotated[str, Form(max_length=1024)],
) -> Response:
    weak = check_strength(password)
    if role not in agent_store.ROLES or "@" not in email or not display_name.strip() or weak:
        reason = weak or "give an email address, a name and one of the roles"
        return await _agents_page(request, error=reason, status_code=422)
    now = now_of(request)
    try:
        async with transaction(kefu_of(request).sessions) as session:
            if await agent_store.find_agent(session, email=email) is not None:
                return await _agents_page(request, error=f"{email} already has an account",
                                          status_code=409)
            await agent_store.add_agent(session, email=email, display_name=display_name.strip(),
                                        role=role, password_hash=hash_password(password), now=now)
            await audit.record(session, actor=actor.principal.actor, action=audit.ROLE_CHANGE,
                               subject=f"agent:{email.strip().lower()}",
                               detail={"role": role, "created": True})
    except IntegrityError:
        return await _agents_page(request, error=f"{email} already has an account",
                                  status_code=409)
    return RedirectResponse("/console/admin/agents", status_code=303)


@router.post("/console/admin/agents/{agent_id}", include_in_schema=False)
async def update_agent(
    request: Request, agent_id: int, actor: AgentAdminDoing,
    role: Annotated[str, Form(max_length=16)], active: Annotated[str, Form(max_length=5)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    if role not in agent_store.ROLES:
        return problem(request, 422, f"role {role!r} is not one of {', '.join(agent_store.ROLES)}")
    if password and (weak := check_strength(password)):
        return problem(request, 422, weak)
    keep = active == "on"
    if agent_id == actor.agent_id and (role != actor.role or not keep):
        return problem(request, 422, "you cannot demote or deactivate yourself; ask another "
                       "admin")
    now = now_of(request)
    async with transaction(kefu_of(request).sessions) as session:
        agent = await agent_store.get_agent(session, agent_id=agent_id)
        if agent is None:
            return problem(request, 404, f"agent {agent_id} does not exist")
        changed: dict[str, list[object]] = {"role": [agent.role, role]} \
            if agent.role != role else {}
        if agent.active != keep:
            changed["active"] = [agent.active, keep]
        agent.role, agent.active = role, keep
        if password:
            agent.password_hash = hash_password(password)
            agent.failed_logins, agent.locked_until = 0, None
            changed["password"] = ["", "reset"]
        if changed:
            # Sessions carry what the agent could do when they signed in: start over.
            await sessions.revoke_all(session, agent_id=agent.id, now=now)
            await audit.record(session, actor=actor.principal.actor, action=audit.ROLE_CHANGE,
                               subject=f"agent:{agent.email}", detail=changed)
    return RedirectResponse("/console/admin/agents", status_code=303)


async def _canned_page(request: Request, *, error: str | None = None,
                       status_code: int = 200) -> Response:
    async with transaction(kefu_of(request).sessions) as session:
        replies = await agent_store.canned_replies(session)
    return render(request, "canned.html", status_code=status_code, replies=replies,
                  variables=VARIABLES, error=error)


@router.get("/console/admin/canned", include_in_schema=False)
async def canned_page(request: Request, _actor: CannedAdmin) -> Response:
    return await _canned_page(request)


@router.post("/console/admin/canned", include_in_schema=False)
async def save_canned(
    request: Request, actor: CannedAdminDoing,
    title: Annotated[str, Form(max_length=80)], body: Annotated[str, Form(max_length=4000)],
) -> Response:
    title, body = title.strip(), body.strip()
    if not title or not body:
        return await _canned_page(request, error="a canned reply needs a title and a text",
                                  status_code=422)
    unknown = unknown_variables(body)
    if unknown:
        return await _canned_page(request, status_code=422, error=(
            f"unknown variables {', '.join('{' + u + '}' for u in unknown)}; use "
            + ", ".join("{" + v + "}" for v in VARIABLES)))
    async with transaction(kefu_of(request).sessions) as session:
        existing = await agent_store.find_canned(session, title=title)
        if existing is None:
            session.add(CannedReply(title=title, body=body, updated_by=actor.agent_id,
                                    updated_at=now_of(request)))
        else:
            existing.body, existing.updated_by = body, actor.agent_id
            existing.updated_at = now_of(request)
    return RedirectResponse("/console/admin/canned", status_code=303)


@router.post("/console/admin/canned/{canned_id}/delete", include_in_schema=False)
async def delete_canned(request: Request, canned_id: int, _actor: CannedAdminDoing) -> Response:
    async with transaction(kefu_of(request).sessions) as session:
        found = await agent_store.get_canned(session, canned_id=canned_id)
        if found is None:
            return problem(request, 404, f"canned reply {canned_id} does not exist")
        await session.delete(found)
    return RedirectResponse("/console/admin/canned", status_code=303)
