"""Signing in and out of the console."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.console import sessions
from bot.console.auth import (
    COOKIE_PATH,
    Actor,
    clear_session_cookie,
    log_in,
    secure_cookies,
    set_session_cookie,
)
from bot.console.web import acting, kefu_of, now_of, render
from bot.core import audit
from bot.core.storage.db import transaction
from bot.core.storage.models_cases import AgentSession
from bot.features.security.http import client_ip
from bot.features.security.login_throttle import LoginThrottle
from bot.features.security.permissions import Action, public

router = APIRouter()
LOGIN_COOKIE = "kefu_login"
_LOGIN_FORM_AGE = 3600


def _signer(request: Request) -> URLSafeTimedSerializer:
    signer: URLSafeTimedSerializer = request.app.state.console_signer
    return signer


def _login_page(request: Request, *, error: str | None = None, email: str = "",
                status_code: int = 200) -> Response:
    """The form, with a fresh login token: a random value in a cookie, signed in the form
    (login CSRF: another site cannot sign a victim into the attacker's account)."""
    nonce = secrets.token_urlsafe(16)
    response = render(request, "login.html", status_code=status_code, error=error,
                      email=email, login_token=_signer(request).dumps(nonce))
    settings = kefu_of(request).settings
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=_LOGIN_FORM_AGE, path=COOKIE_PATH,
                        httponly=True, samesite="strict",
                        secure=secure_cookies(request, settings))
    return response


@router.get(public("/console/login"), include_in_schema=False)
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/console/login", include_in_schema=False)
async def login(
    request: Request,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    login_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    kefu = kefu_of(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    try:
        signed = _signer(request).loads(login_token, max_age=_LOGIN_FORM_AGE)
    except BadSignature:
        signed = None
    if not nonce or not isinstance(signed, str) or not hmac.compare_digest(signed, nonce):
        return _login_page(request, error="expired", email=email, status_code=403)
    throttle: LoginThrottle | None = getattr(request.app.state, "login_limiter", None)
    ip = client_ip(request.scope)
    if throttle is not None:
        decision = await throttle.check(ip=ip, account=email)
        if not decision.allowed:
            # The password is not even checked: guessing costs the attacker time, not us.
            response = _login_page(request, error="too_many", email=email, status_code=429)
            response.headers["retry-after"] = str(decision.retry_after)
            return response
    now = now_of(request)
    async with transaction(kefu.sessions) as session:
        result = await log_in(session, email=email, password=password,
                              settings=kefu.settings.console, now=now)
        await audit.record_login(session, account=email.strip().lower()[:100],
                                 ip=ip, ok=result.token is not None,
                                 reason=result.error or "")
    if result.token is None:
        if throttle is not None:
            await throttle.failed(ip=ip, account=email)
        return _login_page(request, error=result.error, email=email, status_code=401)
    if throttle is not None:
        await throttle.succeeded(ip=ip, account=email)
    response = RedirectResponse("/console/queue", status_code=303)
    set_session_cookie(response, request, kefu.settings, result.token)
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/console/logout", include_in_schema=False)
async def logout(request: Request,
                 actor: Annotated[Actor, acting(Action.HANDLE_CONVERSATIONS)]) -> Response:
    kefu = kefu_of(request)
    now = now_of(request)
    async with transaction(kefu.sessions) as session:
        row = await session.get(AgentSession, actor.session_id)
        if row is not None:
            await sessions.revoke(session, row=row, now=now)
    response = RedirectResponse("/console/login", status_code=303)
    clear_session_cookie(response, request, kefu.settings)
    return response

