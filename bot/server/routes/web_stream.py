"""The web chat's live channel: messages that did not answer a request (agent replies,
satisfaction questions) reach the open chat page through Server-Sent Events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.features.security.http import client_ip
from bot.features.security.permissions import public
from bot.outbox.web_delivery import take_pending
from bot.server.routes.core import KefuDep
from bot.server.stream_hub import StreamHub

router = APIRouter()
# A comment line this often keeps proxies from closing a quiet stream.
PING_SECONDS = 15.0
TAKE = 20  # rows per look at the outbox
# Anyone who knows a sender id may read its stream, exactly as anyone may post as it to the
# REST webhook: the web channel's visitors are anonymous by design.
Sender = Annotated[str, Query(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]


def _clock(request: Request) -> Callable[[], datetime]:
    clock: Callable[[], datetime] | None = getattr(request.app.state, "console_clock", None)
    return clock or (lambda: datetime.now(UTC))


async def web_messages(kefu: Kefu, *, sender: str, clock: Callable[[], datetime],
                       request: Request, interval: float,
                       hub: StreamHub | None = None) -> AsyncIterator[str]:
    """The stream's events; without a ``hub`` it looks at the outbox every ``interval``."""
    hub = hub or StreamHub(mode="poll", max_per_ip=1, poll_seconds=interval)
    yield "retry: 2000\n\n"
    loop = asyncio.get_running_loop()
    pinged = loop.time()
    async with hub.subscribe(sender) as woken:
        look = True
        while not await request.is_disconnected():
            if look:
                # Cleared before looking: a wake-up during the look is not lost.
                woken.clear()
                async with hub.looks, transaction(kefu.sessions) as session:
                    rows = await take_pending(session, recipient_id=sender, now=clock(),
                                              limit=TAKE)
                for row in rows:
                    payload = row.payload or {}
                    data = {"text": payload.get("text", ""),
                            "buttons": payload.get("buttons") or [], "purpose": row.purpose}
                    yield (f"id: {row.id}\nevent: message\n"
                           f"data: {json.dumps(data, ensure_ascii=False)}\n\n")
                if len(rows) == TAKE:
                    continue  # more are waiting: no wake-up will come for them
            # A notified stream looks only when woken; a polling one every ``interval``.
            try:
                await asyncio.wait_for(woken.wait(),
                                       timeout=interval if hub.polling else PING_SECONDS)
                look = True
            except TimeoutError:
                look = hub.polling
            if loop.time() - pinged >= PING_SECONDS:
                pinged = loop.time()
                yield ": ping\n\n"


class _StreamSlot(StreamingResponse):
    """Gives the address's stream slot back however the stream ends (even unstarted)."""

    def __init__(self, content: AsyncIterator[str], *, release: Callable[[], None],
                 headers: dict[str, str]) -> None:
        super().__init__(content, media_type="text/event-stream", headers=headers)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


@router.get(public("/webchat/stream"), include_in_schema=False)
async def web_stream(request: Request, sender: Sender, kefu: KefuDep) -> StreamingResponse:
    hub: StreamHub = request.app.state.stream_hub
    ip = client_ip(request.scope)
    if not hub.admit(ip):
        raise HTTPException(status_code=429, headers={"Retry-After": "30"},
                            detail=f"too many open chat streams from this address (at most "
                            f"{hub.max_per_ip}); close a chat tab and retry")
    interval = float(getattr(request.app.state, "web_poll_seconds", hub.poll_seconds))
    return _StreamSlot(
        web_messages(kefu, sender=sender, clock=_clock(request), request=request, hub=hub,
                     interval=interval),
        release=lambda: hub.release(ip),
        headers={"cache-control": "no-store", "x-accel-buffering": "no"})
