"""POST /webhooks/telegram: the secret token header first, then the update."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from bot.channels.telegram.channel import MalformedUpdate
from bot.server.json_body import JsonRoute, read_json

router = APIRouter(route_class=JsonRoute)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


@router.post("/webhooks/telegram")
async def telegram_webhook(request: Request) -> JSONResponse:
    delivery = getattr(request.app.state, "delivery", None)
    settings = request.app.state.kefu.settings
    if delivery is None or delivery.telegram is None:
        raise HTTPException(status_code=404, detail="Telegram is not configured here")
    expected = settings.telegram_webhook_secret
    if expected is None:
        raise HTTPException(status_code=403, detail="set TELEGRAM_WEBHOOK_SECRET to accept "
                                                    "Telegram webhooks")
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
        raise HTTPException(status_code=403, detail="secret token header does not match")
    data = await read_json(request)
    try:
        await delivery.handle_telegram_update(data)
    except MalformedUpdate as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return JSONResponse({"ok": True})
