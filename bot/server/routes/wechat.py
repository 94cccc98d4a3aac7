"""GET|POST /webhooks/wechat: URL verification, then pushes answered within WeChat's 5 s.

The dialogue's replies are in the outbox before WeChat gets any answer. When the turn is done
within ``passive_reply_seconds`` they go back in the HTTP answer (passive reply) and their
outbox rows are marked sent; otherwise (a slow turn, the database down) the push is first
kept in the spool, WeChat gets "success", and the dispatcher sends the replies through the
customer-service API as soon as the turn commits, or is replayed from the spool.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import wechat
from bot.core import metrics
from bot.core.failures import FailureLog
from bot.core.storage.db import transaction
from bot.core.storage.models import OutboxMessage
from bot.core.storage.outage import database_unavailable
from bot.dialogue.pipeline import TurnResult
from bot.outbox import store as outbox

if TYPE_CHECKING:
    from bot.delivery import Delivery

log = logging.getLogger(__name__)
failures = FailureLog(log)
router = APIRouter()
SUCCESS = "success"
# The passive reply must stay under WeChat's 2,048-byte text limit.
PASSIVE_MAX_BYTES = 2000


def _delivery(request: Request) -> Delivery:
    delivery = getattr(request.app.state, "delivery", None)
    if delivery is None or delivery.wechat_keys is None:
        raise HTTPException(status_code=404, detail="WeChat is not configured here")
    return delivery  # type: ignore[no-any-return]


@router.get("/webhooks/wechat")
async def verify(request: Request, signature: str = "", timestamp: str = "", nonce: str = "",
                 echostr: str = "") -> PlainTextResponse:
    keys = _delivery(request).wechat_keys
    assert keys is not None
    try:
        answer = wechat.verify_url(keys, signature=signature, timestamp=timestamp, nonce=nonce,
                                   echostr=echostr)
    except wechat.WeChatRequestError as exc:
        raise HTTPException(status_code=exc.status, detail=str(exc)) from None
    return PlainTextResponse(answer)


@router.post("/webhooks/wechat")
async def receive(request: Request) -> Response:
    delivery = _delivery(request)
    keys = delivery.wechat_keys
    assert keys is not None
    started = time.monotonic()
    body = await request.body()
    params = dict(request.query_params)
    try:
        envelope = wechat.open_envelope(
            body, params, keys, accept_plain=delivery.kefu.settings.channels.wechat.accept_plain)
        if delivery.wechat_replay is not None:
            # A signed query carries one message while its timestamp is fresh; a retry of
            # that message passes (and is answered as before), any other is refused.
            await delivery.wechat_replay.admit(params,
                                               digest=wechat.message_digest(envelope.fields))
        inbound = wechat.to_inbound(envelope.fields)
    except wechat.WeChatRequestError as exc:
        raise HTTPException(status_code=exc.status, detail=str(exc)) from None
    if inbound is None:
        return PlainTextResponse(SUCCESS)
    # WeChat's 5 s run from the request, replay check included: the turn gets what is left
    # of the configured window and no more (a floor here would let a slow replay check push
    # the answer past WeChat's deadline, and overrides an operator's shorter window).
    wait = max(0.0, delivery.kefu.settings.channels.wechat.passive_reply_seconds
               - (time.monotonic() - started))
    # Too slow, or the database down: the push is kept in the spool and WeChat hears
    # "success" now; the reply follows through the customer-service API.
    result = await delivery.turns.run(inbound, wait=wait)
    if result is None:
        return PlainTextResponse(SUCCESS)
    try:
        text = await _passive_text(delivery, result)
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        # The turn is stored; its replies go out through the API after the passive hold.
        failures.failure("wechat.passive", "could not take replies for a passive answer",
                         exc=exc)
        return PlainTextResponse(SUCCESS)
    if not text:
        delivery.dispatcher.wake()
        return PlainTextResponse(SUCCESS)
    xml = wechat.render_reply(envelope.fields, text, keys=keys, reply_key=envelope.reply_key,
                              nonce=secrets.token_hex(8))
    return Response(xml, media_type="application/xml")


async def _passive_text(delivery: Delivery, result: TurnResult) -> str:
    """Takes as many replies as fit one passive answer; the rest become due for the API."""
    if result.message_id is None:
        return ""
    now = datetime.now(UTC)
    async with transaction(delivery.kefu.sessions) as session:
        rows = await outbox.for_message(session, message_id=result.message_id)
        if result.duplicate:
            # WeChat retried: repeat a passive answer it may have lost, never an API send.
            passive = [r for r in rows if r.delivered_via == "passive"]
            return "\n\n".join(str(r.payload.get("text", "")) for r in passive)
        taken: list[OutboxMessage] = []
        size = 0
        for row in rows:
            if row.status != outbox.PENDING:
                continue
            text = str(row.payload.get("text", ""))
            added = len(text.encode()) + (2 if taken else 0)
            if taken and size + added > PASSIVE_MAX_BYTES:
                break
            taken.append(row)
            size += added
        for row in taken:
            await outbox.mark_sent(session, outbox_id=row.id, now=now, via="passive")
            metrics.OUTBOX_SENT.labels(row.channel, "passive").inc()
        rest = [r.id for r in rows if r.status == outbox.PENDING and r not in taken]
        if rest:
            await _make_due(session, rest, now)
    return "\n\n".join(str(r.payload.get("text", "")) for r in taken)


async def _make_due(session: AsyncSession, ids: list[int], now: datetime) -> None:
    if ids:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                              .values(next_attempt_at=now))
