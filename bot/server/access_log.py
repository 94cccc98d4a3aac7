"""One log line per HTTP request, with its correlation id, and the id bound for everything
the request causes. Query strings are masked: WeChat puts the follower's openid there."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.core.correlation import accepted, correlated

log = logging.getLogger("kefu.access")
HEADER = b"x-request-id"


class AccessLog:
    def __init__(self, app: ASGIApp, *, enabled: bool = True) -> None:
        self.app, self.enabled = app, enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(HEADER, b"").decode("latin-1")
        status = 500
        started = time.perf_counter()
        with correlated(accepted(incoming)) as correlation_id:

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    message["headers"] = [*message.get("headers", []),
                                          (HEADER, correlation_id.encode())]
                await send(message)

            try:
                await self.app(scope, receive, send_with_id)
            finally:
                if self.enabled:
                    log.info("request", extra={
                        "method": scope.get("method"), "path": scope.get("path"),
                        "query": scope.get("query_string", b"").decode("latin-1"),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
