"""Health and NLU parse endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from bot import metrics
from bot.app import Kefu
from bot.kpis import metrics as kpi_metrics
from bot.outbox import store

router = APIRouter()


def get_kefu(request: Request) -> Kefu:
    kefu: Kefu = request.app.state.kefu
    return kefu


KefuDep = Annotated[Kefu, Depends(get_kefu)]


@router.get("/healthz")
async def healthz(kefu: KefuDep) -> JSONResponse:
    if await kefu.ping_database():
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unavailable", "database": "not answering"}, status_code=503)


@router.get("/metrics", include_in_schema=False)
async def metrics_endpoint(kefu: KefuDep) -> Response:
    """Prometheus metrics, with the outbox backlog counted at scrape time."""
    async with kefu.sessions() as session:
        pending = await store.pending_by_channel(session)
        await kpi_metrics.refresh(session, now=datetime.now(UTC))
    metrics.OUTBOX_PENDING.clear()
    for channel, count in pending.items():
        metrics.OUTBOX_PENDING.labels(channel).set(count)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class ParseRequest(BaseModel):
    text: str = Field(max_length=100_000)
    timezone: str | None = Field(default=None, max_length=64)


@router.post("/model/parse")
async def model_parse(body: ParseRequest, kefu: KefuDep) -> dict[str, Any]:
    nlu = kefu.services.nlu
    if nlu is None:
        raise HTTPException(status_code=503, detail="the NLU model is not loaded")
    zone = body.timezone or kefu.settings.app.default_timezone
    return (await nlu.parse(body.text, timezone=zone)).to_dict()
