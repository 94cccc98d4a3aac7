"""Health and NLU parse endpoints."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from bot.app import Kefu
from bot.core import metrics
from bot.core.storage.outage import database_unavailable
from bot.features.kpis import metrics as kpi_metrics
from bot.features.security.http import token_matches
from bot.outbox import store
from bot.server import health
from bot.server.json_body import JsonRoute

router = APIRouter(route_class=JsonRoute)


def get_kefu(request: Request) -> Kefu:
    kefu: Kefu = request.app.state.kefu
    return kefu


KefuDep = Annotated[Kefu, Depends(get_kefu)]


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """Liveness: answers at once while the process lives; touches nothing it could wait on."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(kefu: KefuDep, request: Request) -> JSONResponse:
    """Readiness: 200 when the database answers in time, the SQLite and spool disks have
    room, the spool is not piling up and the outbox drains; else 503 with the reasons."""
    delivery = getattr(request.app.state, "delivery", None)
    spool = delivery.turns.spool if delivery is not None else None
    spooled = None
    if spool is not None:
        with suppress(Exception):  # an unreadable spool is reported by spool.problem()
            spooled = len(await spool.pending())
    result = await health.check(
        engine=kefu.engine, sessions=kefu.sessions, settings=kefu.settings.readiness,
        spool=spool, spooled=spooled,
        dispatched=frozenset(delivery.dispatcher.senders) if delivery is not None
        else frozenset())
    return JSONResponse(result.body(), status_code=200 if result.ready else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics_endpoint(kefu: KefuDep) -> Response:
    """Prometheus metrics, with the outbox backlog counted at scrape time."""
    now = datetime.now(UTC)
    try:
        async with kefu.sessions() as session:
            pending = await store.pending_by_channel(session)
            oldest = await store.oldest_pending(session, now=now)
            await kpi_metrics.refresh(session, now=now)
    except Exception as exc:  # the rest of the metrics still matter during an outage
        if not database_unavailable(exc):
            raise
    else:
        metrics.OUTBOX_PENDING.clear()
        for channel, count in pending.items():
            metrics.OUTBOX_PENDING.labels(channel).set(count)
        metrics.OUTBOX_OLDEST_PENDING.clear()
        for channel, (created, _untried) in oldest.items():
            metrics.OUTBOX_OLDEST_PENDING.labels(channel).set((now - created).total_seconds())
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class ParseRequest(BaseModel):
    text: str = Field(max_length=100_000)
    timezone: str | None = Field(default=None, max_length=64)


def require_parse_token(kefu: KefuDep, token: str | None = None) -> None:
    """With ``KEFU_PARSE_TOKEN`` set, callers must pass it as ``?token=`` (Rasa's
    ``--auth-token``); without it the endpoint is open, limited per address."""
    expected = kefu.settings.parse_token
    if expected is not None and not token_matches(token, expected.get_secret_value()):
        raise HTTPException(status_code=401, detail="a valid ?token= is required",
                            headers={"WWW-Authenticate": "Token"})


@router.post("/model/parse", dependencies=[Depends(require_parse_token)])
async def model_parse(body: ParseRequest, kefu: KefuDep) -> dict[str, Any]:
    nlu = kefu.services.nlu
    if nlu is None:
        raise HTTPException(status_code=503, detail="the NLU model is not loaded")
    zone = body.timezone or kefu.settings.app.default_timezone
    return (await nlu.parse(body.text, timezone=zone)).to_dict()
