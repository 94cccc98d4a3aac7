"""What every console route shares: templates, the clock, the signed-in agent, CSRF checks."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.app import Kefu
from bot.console.auth import Actor
from bot.console.labels import LABELS, duration, iso, local, percent
from bot.features.cases.service import Desk
from bot.features.security.permissions import Action, Principal, allowed, require

HERE = Path(__file__).resolve().parent
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    # Customer text is shown here: everything is escaped unless a template says otherwise.
    autoescape=select_autoescape(("html",), default_for_string=True, default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.globals["labels"] = LABELS
TEMPLATES.filters.update(local=local, iso=iso, percent=percent, duration=duration)


def kefu_of(request: Request) -> Kefu:
    kefu: Kefu = request.app.state.kefu
    return kefu


def now_of(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.console_clock
    return clock()


def desk_of(request: Request) -> Desk:
    kefu = kefu_of(request)
    return Desk(kefu.settings, kefu.services.translator,
                no_buttons=kefu.services.no_buttons)


def render(request: Request, template: str, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    actor: Actor | None = getattr(request.state, "console", None)
    role = actor.role if actor else None
    can = {"supervise": allowed(role, Action.SUPERVISE_CASES),
           "agents": allowed(role, Action.MANAGE_AGENTS),
           "canned": allowed(role, Action.MANAGE_CANNED_REPLIES),
           "audit": allowed(role, Action.VIEW_AUDIT),
           "export": allowed(role, Action.EXPORT_MEMBER)}
    html = TEMPLATES.get_template(template).render(
        actor=actor, csrf=actor.csrf if actor else "", path=request.url.path, can=can,
        **context)
    return HTMLResponse(html, status_code=status_code,
                        headers={"cache-control": "no-store"})


def problem(request: Request, status_code: int, message: str) -> Response:
    """An error the agent can read: an HTML page for the browser, JSON for scripts."""
    if "text/html" in request.headers.get("accept", ""):
        return render(request, "error.html", status_code=status_code, message=message)
    raise HTTPException(status_code=status_code, detail=message)


def _same_origin(request: Request) -> bool:
    """When a browser names the site a POST comes from, it must be this one.

    "null" names none: with Referrer-Policy no-referrer (bot/features/security/http.py)
    browsers send it even for this site's own forms, so only the token can decide then.
    """
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return True
    parts = urlsplit(origin)
    return parts.netloc == request.headers.get("host", request.url.netloc)


async def _check_csrf(request: Request) -> None:
    actor = _actor(request)
    if actor.session_id == 0:
        return  # no cookie was involved, so no other site can have made this request
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, actor.csrf) or not _same_origin(request):
        raise HTTPException(status_code=403, detail="the form's security token is missing or "
                            "wrong (CSRF); reload the page and try again")


def viewing(action: Action) -> Any:
    """The signed-in agent, when their role grants ``action`` (for pages and streams)."""
    # The guard is a default value, not an Annotated string: with postponed annotations
    # FastAPI could not resolve ``action``, a closure variable.

    async def dependency(request: Request, _principal: Principal = require(action)) -> Actor:
        return _actor(request)

    return Depends(dependency)


def _actor(request: Request) -> Actor:
    actor: Actor | None = getattr(request.state, "console", None)
    if actor is not None:
        return actor
    # Let in by another authenticator (an API token): no console session, no agent account
    # behind it. It may read; changes that need an agent are refused by the routes.
    principal: Principal = request.state.principal
    return Actor(agent_id=0, email=principal.actor.removeprefix("agent:"),
                 name=principal.actor, role=str(principal.role), csrf="", session_id=0)


def acting(action: Action) -> Any:
    """Like :func:`viewing`, for changes: the request must also carry the CSRF token."""

    async def dependency(request: Request, _principal: Principal = require(action)) -> Actor:
        actor = _actor(request)
        await _check_csrf(request)
        return actor

    return Depends(dependency)
