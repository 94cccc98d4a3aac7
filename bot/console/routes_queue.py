"""The queue: open cases with SLA countdowns, kept current by a Server-Sent Events stream."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from bot.console.auth import Actor
from bot.console.live import console_stream
from bot.console.views import queue_rows
from bot.console.web import desk_of, kefu_of, now_of, render, viewing
from bot.core.storage.db import transaction
from bot.features.security.permissions import Action, allowed

router = APIRouter()
Agent = Annotated[Actor, viewing(Action.HANDLE_CONVERSATIONS)]


def sees_all(actor: Actor) -> bool:
    """Supervisors and admins see (and may act on) every case; agents their own."""
    return allowed(actor.role, Action.SUPERVISE_CASES)


@router.get("/console", include_in_schema=False)
async def console_home(_actor: Agent) -> Response:
    return RedirectResponse("/console/queue", status_code=303)


async def _rows_context(request: Request, actor: Actor) -> dict[str, Any]:
    kefu = kefu_of(request)
    now = now_of(request)
    async with transaction(kefu.sessions) as session:
        rows = await queue_rows(session, desk=desk_of(request), actor=actor,
                                sees_all=sees_all(actor), now=now, directory=kefu.directory)
    return {"rows": rows, "now": now, "sees_all": sees_all(actor)}


@router.get("/console/queue", include_in_schema=False)
async def queue_page(request: Request, actor: Agent) -> Response:
    return render(request, "queue.html", **await _rows_context(request, actor))


@router.get("/console/queue/rows", include_in_schema=False)
async def queue_fragment(request: Request, actor: Agent) -> Response:
    return render(request, "_queue_rows.html", **await _rows_context(request, actor))


@router.get("/console/events", include_in_schema=False)
async def events(request: Request, actor: Agent) -> StreamingResponse:
    kefu = kefu_of(request)
    stream = console_stream(
        kefu.sessions, actor=actor, clock=request.app.state.console_clock,
        idle=timedelta(minutes=kefu.settings.console.idle_minutes),
        interval=request.app.state.console_poll_seconds,
        disconnected=request.is_disconnected)
    return StreamingResponse(stream, media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})
