"""The web chat: the page at / and Rasa's REST webhook it talks to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from bot.channels import web
from bot.features.security.http import enforce_sender_limit
from bot.server.json_body import JsonRoute
from bot.server.routes.core import KefuDep

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(route_class=JsonRoute)


@router.get("/", include_in_schema=False)
async def chat_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "chat.html", media_type="text/html; charset=utf-8")


@router.post("/webhooks/rest/webhook", response_model=list[dict[str, Any]])
async def rest_webhook(body: web.RestRequest, kefu: KefuDep, request: Request) -> JSONResponse:
    await enforce_sender_limit(request, channel=web.NAME, sender=body.sender)
    replies = await kefu.dialogue.handle(web.to_inbound(body))
    # Answered as built: FastAPI's validation of a return value against the response model
    # would only repeat, on every turn, what to_rest already guarantees.
    return JSONResponse(web.to_rest(replies))
