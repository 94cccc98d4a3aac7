"""One case: its conversation across channels, the member card, and what agents do to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console.auth import Actor
from bot.console.canned import fill
from bot.console.routes_queue import sees_all
from bot.console.views import countdown, member_card, timeline
from bot.console.web import acting, desk_of, kefu_of, now_of, problem, render, viewing
from bot.core import audit
from bot.core.storage.db import transaction
from bot.core.storage.models import ChannelIdentity
from bot.core.storage.models_cases import Agent, Case
from bot.features.cases import store
from bot.features.cases.agents import all_agents, canned_replies, get_agent
from bot.features.cases.errors import (
    AlreadyClaimedError,
    CaseClosedError,
    CaseError,
    ReplyBlockedError,
)
from bot.features.cases.service import RESOLUTION_CODES, WINDOWED_CHANNELS, Desk
from bot.features.security.permissions import Action
from bot.outbox.windows import closes_at, refusal

router = APIRouter()
Viewer = Annotated[Actor, viewing(Action.HANDLE_CONVERSATIONS)]
Doer = Annotated[Actor, acting(Action.HANDLE_CONVERSATIONS)]
Supervisor = Annotated[Actor, acting(Action.SUPERVISE_CASES)]
# Generous on purpose: the reply's real limit is checked by the desk, with a clear message.
Text = Annotated[str, Form(max_length=200_000)]


def may_view(actor: Actor, case: Case) -> bool:
    return sees_all(actor) or case.assignee_id in (None, actor.agent_id)


def may_act(actor: Actor, case: Case) -> bool:
    return sees_all(actor) or case.assignee_id == actor.agent_id


async def _case(session: AsyncSession, case_id: int, actor: Actor, *, act: bool) -> Case:
    case = await store.get_case(session, case_id=case_id)
    if case is None:
        raise HTTPException(status_code=404, detail=f"case {case_id} does not exist")
    if not (may_act(actor, case) if act else may_view(actor, case)):
        raise HTTPException(status_code=403, detail=f"case {case.number} is assigned to another "
                            "agent; ask a supervisor to transfer it to you")
    return case


async def _context(request: Request, session: AsyncSession, case: Case,
                   actor: Actor) -> dict[str, Any]:
    kefu = kefu_of(request)
    desk = desk_of(request)
    now = now_of(request)
    card = await member_card(session, directory=kefu.directory, case=case,
                             settings=kefu.settings, now=now)
    if card is not None and not card.get("unavailable"):
        await audit.record_pii_view_once(session, actor=actor.principal.actor,
                                         member_no=card["id"], purpose=f"case {case.number}",
                                         sign_in=actor.session_id)
    identity = await session.get(ChannelIdentity, case.identity_id)
    window = None
    if case.channel in WINDOWED_CHANNELS and identity is not None:
        window = {"refusal": refusal(identity, now), "closes_at": closes_at(identity)}
    agents = [a for a in await all_agents(session, active_only=True)]
    values = {"agent": actor.name, "case_number": case.number,
              "tier": str(card.get("tier", "")) if card else "",
              "points": f"{card['points_balance']:,}" if card and "points_balance" in card
              else "",
              "store": case.store_code or "", "due": countdown(desk, case, now).local}
    canned = [(c.title, fill(c.body, values)) for c in await canned_replies(session)]
    return {"case": case, "items": await timeline(session, case=case), "card": card,
            "countdown": countdown(desk, case, now), "agents": agents, "canned": canned,
            "window": window, "identity": identity, "may_act": may_act(actor, case),
            "codes": RESOLUTION_CODES, "sees_all": sees_all(actor),
            "assignee": next((a for a in agents if a.id == case.assignee_id), None)}


@router.get("/console/cases/{case_id}", include_in_schema=False)
async def case_page(request: Request, case_id: int, actor: Viewer) -> Response:
    async with transaction(kefu_of(request).sessions) as session:
        case = await _case(session, case_id, actor, act=False)
        context = await _context(request, session, case, actor)
    return render(request, "case.html", **context)


@router.get("/console/cases/{case_id}/timeline", include_in_schema=False)
async def case_timeline(request: Request, case_id: int, actor: Viewer) -> Response:
    async with transaction(kefu_of(request).sessions) as session:
        case = await _case(session, case_id, actor, act=False)
        items = await timeline(session, case=case)
    return render(request, "_timeline.html", case=case, items=items)


Work = Callable[[Desk, AsyncSession, Case, Agent], Awaitable[None]]


async def _do(request: Request, case_id: int, actor: Actor, work: Work, *,
              claiming: bool = False) -> Response:
    """Runs one change in one transaction; expected failures become readable errors and
    change nothing."""
    kefu = kefu_of(request)
    try:
        async with transaction(kefu.sessions) as session:
            case = await store.get_case(session, case_id=case_id)
            if case is None:
                raise HTTPException(status_code=404, detail=f"case {case_id} does not exist")
            allowed = may_view(actor, case) if claiming else may_act(actor, case)
            if not allowed:
                raise HTTPException(status_code=403, detail=f"case {case.number} is assigned "
                                    "to another agent; ask a supervisor to transfer it to you")
            agent = await get_agent(session, agent_id=actor.agent_id)
            if agent is None:
                raise HTTPException(status_code=403, detail="only agents with a console "
                                    "account can work on cases")
            await work(desk_of(request), session, case, agent)
    except HTTPException as exc:
        return problem(request, exc.status_code, str(exc.detail))
    except (CaseClosedError, AlreadyClaimedError, ReplyBlockedError) as exc:
        return problem(request, 409, str(exc))
    except CaseError as exc:
        return problem(request, 422, str(exc))
    delivery = getattr(request.app.state, "delivery", None)
    if delivery is not None:
        delivery.dispatcher.wake()  # agent replies go out now, not at the next poll
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.post("/console/cases/{case_id}/claim", include_in_schema=False)
async def claim(request: Request, case_id: int, actor: Doer) -> Response:
    async def work(desk: Desk, session: AsyncSession, case: Case, agent: Agent) -> None:
        await desk.claim(session, case=case, agent=agent, now=now_of(request))

    return await _do(request, case_id, actor, work, claiming=True)


async def _other_agent(session: AsyncSession, agent_id: int) -> Agent:
    other = await get_agent(session, agent_id=agent_id)
    if other is None:
        raise CaseError(f"agent {agent_id} does not exist")
    return other


@router.post("/console/cases/{case_id}/transfer", include_in_schema=False)
async def transfer(request: Request, case_id: int, actor: Doer,
                   agent_id: Annotated[int, Form()], note: Text = "") -> Response:
    async def work(desk: Desk, session: AsyncSession, case: Case, agent: Agent) -> None:
        to = await _other_agent(session, agent_id)
        await desk.assign(session, case=case, to=to, by=agent, now=now_of(request),
                          kind="transferred", note=note.strip()[:2000] or None)

    return await _do(request, case_id, actor, work)


@router.post("/console/cases/{case_id}/assign", include_in_schema=False)
async def assign(request: Request, case_id: int, actor: Supervisor,
                 agent_id: Annotated[int, Form()]) -> Response:
    async def work(desk: Desk, session: AsyncSession, case: Case, agent: Agent) -> None:
        to = await _other_agent(session, agent_id)
        await desk.assign(session, case=case, to=to, by=agent, now=now_of(request))

    return await _do(request, case_id, actor, work)


@router.post("/console/cases/{case_id}/reply", include_in_schema=False)
async def reply(request: Request, case_id: int, actor: Doer, text: Text) -> Response:
    async def work(desk: Desk, session: AsyncSession, case: Case, agent: Agent) -> None:
        await desk.reply(session, case=case, agent=agent, text=text, now=now_of(request))

    return await _do(request, case_id, actor, work)


@router.post("/console/cases/{case_id}/note", include_in_schema=False)
async def note(request: Request, case_id: int, actor: Doer, text: Text) -> Response:
    async def work(desk: Desk, session: AsyncSession, case: Case, agent: Agent) -> None:
        await desk.note(session, case=case, agent=agent, text=text, now=now_of(request))

    return await _do(request, case_id, actor, work)


@router.post("/console/cases/{case_id}/wait", include_in_schema=False)
async def wait(request: Request, case_id: int, actor: Doer) -> Response:
    async def work(desk: Desk, session: AsyncSession, case: Case, agent: Agent) -> None:
        await desk.wait_for_customer(session, case=case, agent=agent, now=now_of(request))

    return await _do(request, case_id, actor, work)


@router.post("/console/cases/{case_id}/close", include_in_schema=False)
async def close(request: Request, case_id: int, actor: Doer,
                code: Annotated[str, Form(max_length=32)]) -> Response:
    async def work(desk: Desk, session: AsyncSession, case: Case, agent: Agent) -> None:
        await desk.close(session, case=case, agent=agent, code=code, now=now_of(request))

    return await _do(request, case_id, actor, work)
