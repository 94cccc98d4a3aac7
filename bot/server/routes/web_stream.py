"""The web chat's live channel: messages that did not answer a request (agent replies,
satisfaction questions) reach the open chat page through Server-Sent Events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from bot.app import Kefu
from bot.outbox.web_delivery import take_pending
from bot.security.permissions import public
from bot.server.routes.core import KefuDep
from bot.storage.db import transaction

router = APIRouter()
POLL_SECONDS = 1.0
# Anyone who knows a sender id may read its stream, exactly as anyone may post as it to the
# REST webhook: the web channel's visitors are anonymous by design.
Sender = Annotated[str, Query(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]


def _clock(request: Request) -> Callable[[], datetime]:
    clock: Callable[[], datetime] | None = getattr(request.app.state, "console_clock", None)
    return clock or (lambda: datetime.now(UTC))


async def web_messages(kefu: Kefu, *, sender: str, clock: Callable[[], datetime],
                       request: Request, interval: float) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    beats = 0
    while not await request.is_disconnected():
        async with transaction(kefu.sessions) as session:
            rows = await take_pending(session, recipient_id=sender, now=clock())
        for row in rows:
            payload = row.payload or {}
            data = {"text": payload.get("text", ""), "buttons": payload.get("buttons") or [],
                    "purpose": row.purpose}
            yield f"id: {row.id}\nevent: message\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        beats += 1
        if beats % 15 == 0:
            yield ": ping\n\n"  # keeps proxies from closing a quiet stream
        await asyncio.sleep(interval)


@router.get(public("/webchat/stream"), include_in_schema=False)
async def web_stream(request: Request, sender: Sender, kefu: KefuDep) -> StreamingResponse:
    interval = float(getattr(request.app.state, "web_poll_seconds", POLL_SECONDS))
    return StreamingResponse(
        web_messages(kefu, sender=sender, clock=_clock(request), request=request,
                     interval=interval),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"})
