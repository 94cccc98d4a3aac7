"""Puts the console into the app: routes, who is signed in, sign-in redirects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from itsdangerous import URLSafeTimedSerializer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.app import Kefu
from bot.console import (
    routes_admin,
    routes_audit,
    routes_campaigns,
    routes_case,
    routes_login,
    routes_queue,
    routes_review,
)
from bot.console.auth import make_authenticator
from bot.dialogue.pipeline import utc_clock
from bot.features.security.permissions import set_authenticator
from bot.settings import resolve_secret_key


def install_console(app: FastAPI, kefu: Kefu, *, clock: Callable[[], datetime] = utc_clock,
                    poll_seconds: float = 1.0) -> None:
    """Mounts /console. ``app.state.console_clock`` and ``console_poll_seconds`` may be
    replaced afterwards (tests)."""
    secret, _generated = resolve_secret_key(kefu.settings)
    app.state.console_signer = URLSafeTimedSerializer(secret, salt="kefu-console-login")
    app.state.console_clock = clock
    app.state.console_poll_seconds = poll_seconds
    set_authenticator(app, make_authenticator(kefu.sessions, kefu.settings,
                                              lambda: app.state.console_clock()))
    for module in (routes_login, routes_queue, routes_case, routes_admin, routes_review,
                   routes_audit, routes_campaigns):
        app.include_router(module.router)
    # Scripts and styles are served from /static/console/ with the web chat's.
    app.add_middleware(SignInRedirect)


class SignInRedirect:
    """A browser opening a console page without a session goes to the sign-in form instead
    of seeing a 401 JSON body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope.get("method") != "GET"
                or not str(scope.get("path", "")).startswith("/console")
                or b"text/html" not in dict(scope.get("headers", [])).get(b"accept", b"")):
            await self.app(scope, receive, send)
            return
        redirected = False

        async def redirect_401(message: Message) -> None:
            nonlocal redirected
            if message["type"] == "http.response.start" and message["status"] == 401:
                redirected = True
                await send({"type": "http.response.start", "status": 303,
                            "headers": [(b"location", b"/console/login"),
                                        (b"content-length", b"0"),
                                        (b"cache-control", b"no-store")]})
                await send({"type": "http.response.body", "body": b""})
                return
            if not redirected:
                await send(message)

        await self.app(scope, receive, redirect_401)
