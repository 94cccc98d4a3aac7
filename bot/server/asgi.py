"""The HTTP server: web chat, webhooks, NLU parse, health. Routes raise HTTP errors; the
core never does."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.app import Kefu
from bot.channels.base import Sender
from bot.console.install import install_console
from bot.core.failures import FailureLog
from bot.core.storage.outage import database_unavailable
from bot.delivery import build_delivery
from bot.features.security.http import install_security
from bot.server.access_log import AccessLog
from bot.server.limits import BodySizeLimit
from bot.server.openapi import document_errors
from bot.server.rasa_body import JsonWhateverContentType
from bot.server.routes import core, loyalty_api, privacy, web, web_stream
from bot.server.routes import telegram as telegram_routes
from bot.server.routes import wechat as wechat_routes
from bot.server.routes.web import STATIC_DIR
from bot.server.stream_hub import build_hub

MAX_BODY_BYTES = 1024 * 1024
failures = FailureLog(logging.getLogger(__name__))


def create_app(
    kefu: Kefu,
    *,
    close_on_shutdown: bool = True,
    senders: dict[str, Sender] | None = None,
    background: bool = True,
) -> FastAPI:
    """The app; its lifespan starts the channels (outbox dispatcher, Telegram polling or
    webhook registration). ``senders`` replaces platform senders (tests, benchmarks)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        delivery = build_delivery(kefu, senders=senders)
        app.state.delivery = delivery
        await delivery.start(background=background)
        await app.state.stream_hub.start()
        try:
            yield
        finally:
            await app.state.stream_hub.stop()
            await delivery.stop()
            if close_on_shutdown:
                await kefu.aclose()

    # No /docs or /redoc: Swagger UI needs inline and third-party scripts, which the
    # Content-Security-Policy forbids. /openapi.json stays.
    app = FastAPI(title="Kefu", version="0.1.0", lifespan=lifespan, docs_url=None,
                  redoc_url=None)
    app.state.kefu = kefu
    app.state.stream_hub = build_hub(kefu.settings)
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(JsonWhateverContentType)
    install_security(app, kefu.settings)
    document_errors(app)
    app.include_router(privacy.router)
    app.include_router(core.router)
    app.include_router(loyalty_api.router)
    app.include_router(web.router)
    app.include_router(telegram_routes.router)
    app.include_router(wechat_routes.router)
    app.include_router(web_stream.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_console(app, kefu)
    # Outermost: the correlation id is bound before anything else runs.
    app.add_middleware(AccessLog, enabled=kefu.settings.logs.access_log)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
            problems.append(f"{where}: {error.get('msg', 'invalid')}")
        return JSONResponse(status_code=400,
                            content={"error": "invalid request", "detail": problems})

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        if not database_unavailable(exc):
            raise exc
        # One line, not a traceback per request: an outage must not flood the log.
        failures.failure("http.database_unavailable", "%s %s answered 503: the database is "
                         "unavailable", request.method, request.url.path, exc=exc)
        return JSONResponse(status_code=503, headers={"Retry-After": "5"},
                            content={"error": "temporarily unavailable, please try again"})

    for kind in (DBAPIError, SQLAlchemyTimeout, OSError):
        app.add_exception_handler(kind, _unavailable)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"error": exc.detail},
                            headers=getattr(exc, "headers", None))

    return app
