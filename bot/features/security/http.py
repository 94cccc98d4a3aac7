"""HTTP controls: per-IP rate limits, per-sender limits, security headers, CORS, safe errors.

``install_security(app, settings)`` wires them into an app; routes call
``enforce_sender_limit`` once they know who sent a message.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.core.errors import KefuError
from bot.features.security.login_throttle import (
    LoginThrottle,
    MemoryThrottleStore,
    RedisThrottleStore,
    ThrottleRules,
    ThrottleStore,
)
from bot.features.security.ratelimit import RateLimiter, build_limiter, check
from bot.settings import RateLimit, Settings

log = logging.getLogger(__name__)

# The web chat loads /static/chat.js and /static/chat.css only: no inline code, no third
# parties, no framing. Everything else is refused by the browser.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'")
_COMMON_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class SecurityHeaders:
    """Adds hardening headers to every response, and the CSP to HTML ones."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _COMMON_HEADERS.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    headers["content-security-policy"] = CONTENT_SECURITY_POLICY
                if self.hsts:
                    headers.setdefault("strict-transport-security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True, slots=True)
class PathLimit:
    name: str
    path: str
    prefix: bool
    rule: RateLimit
    # Callers presenting this token (``?token=``, as Rasa's clients do) are one service:
    # counted together under ``service_rule`` instead of per address.
    token: str | None = None
    service_rule: RateLimit | None = None

    def matches(self, path: str) -> bool:
        return path.startswith(self.path) if self.prefix else path == self.path


def path_limits(settings: Settings) -> tuple[PathLimit, ...]:
    security = settings.security
    parse_token = settings.parse_token.get_secret_value() if settings.parse_token else None
    return (
        PathLimit("web", "/webhooks/rest/", True, security.web_per_ip),
        PathLimit("hook", "/webhooks/", True, security.webhook_per_ip),
        PathLimit("parse", "/model/parse", False, security.parse_per_ip,
                  token=parse_token, service_rule=security.parse_per_token),
    )


def query_token(scope: Scope) -> str | None:
    """The ``token`` query parameter (Rasa's way of passing its auth token)."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[-1] if values else None


def token_matches(presented: str | None, expected: str | None) -> bool:
    return bool(presented and expected) and hmac.compare_digest(
        str(presented).encode(), str(expected).encode())


def client_ip(scope: Scope) -> str:
    # uvicorn's proxy_headers has already replaced it with X-Forwarded-For from trusted
    # proxies only (--forwarded-allow-ips), so a client cannot pick its own address.
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RateLimitMiddleware:
    """429 with Retry-After once an IP sends more than its path's limit."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter,
                 limits: tuple[PathLimit, ...]) -> None:
        self.app = app
        self.limiter = limiter
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            limit = next((p for p in self.limits if p.matches(path)), None)
            if limit is not None:
                if limit.service_rule and token_matches(query_token(scope), limit.token):
                    key, rule = f"token:{limit.name}", limit.service_rule
                else:
                    key, rule = f"ip:{limit.name}:{client_ip(scope)}", limit.rule
                decision = await check(self.limiter, key, rule)
                if not decision.allowed:
                    await too_many(send, decision.retry_after)
                    return
        await self.app(scope, receive, send)


async def too_many(send: Send, retry_after: int) -> None:
    body = json.dumps({"error": f"too many requests; retry after {retry_after} s"}).encode()
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json"),
                            (b"retry-after", str(retry_after).encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def enforce_sender_limit(request: Request, *, channel: str, sender: str) -> None:
    """Raises 429 when ``sender`` on ``channel`` has sent more than ``web_per_sender`` allows.

    For platforms that must not see errors (WeChat retries and then shows the user a failure),
    use ``sender_allowed`` and drop the message quietly instead.
    """
    limiter: RateLimiter = request.app.state.rate_limiter
    settings: Settings = request.app.state.kefu.settings
    decision = await check(limiter, f"sender:{channel}:{sender}", settings.security.web_per_sender)
    if not decision.allowed:
        raise HTTPException(status_code=429,
                            detail=f"too many messages; retry after {decision.retry_after} s",
                            headers={"Retry-After": str(decision.retry_after)})


async def sender_allowed(request: Request, *, channel: str, sender: str) -> bool:
    limiter: RateLimiter = request.app.state.rate_limiter
    settings: Settings = request.app.state.kefu.settings
    decision = await check(limiter, f"sender:{channel}:{sender}", settings.security.web_per_sender)
    return decision.allowed


def install_security(app: FastAPI, settings: Settings) -> None:
    """Rate limits (``app.state.rate_limiter``, ``app.state.login_limiter``), security headers,
    CORS only for configured origins, and no internals in error answers."""
    limiter = build_limiter(settings)
    app.state.rate_limiter = limiter
    _close_on_shutdown(app, limiter)
    throttle = build_login_throttle(settings)
    app.state.login_limiter = throttle
    _close_on_shutdown(app, throttle)
    app.add_middleware(RateLimitMiddleware, limiter=limiter, limits=path_limits(settings))
    if settings.security.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.security.cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["content-type"],
                           allow_credentials=False)
    public_url = settings.server.public_url or ""
    app.add_middleware(SecurityHeaders, hsts=public_url.startswith("https://"))

    @app.exception_handler(KefuError)
    async def _kefu_error(request: Request, exc: KefuError) -> JSONResponse:
        # E.g. a value encrypted with a key Kefu does not have: the operator must act; the
        # caller learns nothing about keys or data.
        log.error("%s on %s %s: %s", exc.__class__.__name__, request.method,
                  request.url.path, exc)
        return JSONResponse(status_code=503, content={"error": "temporarily unavailable"})


def login_rules(settings: Settings) -> ThrottleRules:
    console, security = settings.console, settings.security
    return ThrottleRules(per_pair=console.max_failed_logins,
                         per_account=security.login_per_account.requests,
                         per_address=security.login_per_ip.requests,
                         max_delay=console.lockout_minutes * 60.0,
                         trusted_days=console.trusted_address_days)


def build_login_throttle(settings: Settings) -> LoginThrottle:
    url = settings.effective_redis_url
    store: ThrottleStore = RedisThrottleStore(url) if url else MemoryThrottleStore()
    return LoginThrottle(store, login_rules(settings))


def _close_on_shutdown(app: FastAPI, limiter: RateLimiter | LoginThrottle) -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            try:
                yield state
            finally:
                await limiter.aclose()

    app.router.lifespan_context = lifespan
