"""Health and NLU parse endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.app import Kefu

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
