"""GET|POST /webhooks/wechat: URL verification, then pushes answered within WeChat's 5 s.

The dialogue's replies are in the outbox, one row per WeChat message, before WeChat gets
any answer. When the turn is done within ``passive_reply_seconds``, the leading rows that fit
one passive answer (2,048 bytes of content) go back in the HTTP answer and are marked sent;
the rest go through the customer-service API, in order. Otherwise (a slow turn, the database
down) the push is first kept in the spool, WeChat gets "success", and the dispatcher sends
the replies through the API as soon as the turn commits, or is replayed from the spool.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response

from bot.channels.wechat import NAME, push
from bot.channels.wechat.reply import SEPARATOR, passive_share, render_reply
from bot.core import metrics
from bot.core.failures import FailureLog
from bot.core.storage.db import transaction
from bot.core.storage.outage import database_unavailable
from bot.dialogue.pipeline import TurnResult
from bot.outbox import store as outbox

if TYPE_CHECKING:
    from bot.delivery import Delivery

log = logging.getLogger(__name__)
failures = FailureLog(log)
router = APIRouter()
SUCCESS = "success"
# The rest of a reply is due this long after the passive answer leaves, so that an API send
# cannot overtake it and the customer reads the parts in order.
REST_AFTER = timedelta(seconds=1)


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
        answer = push.verify_url(keys, signature=signature, timestamp=timestamp, nonce=nonce,
                                 echostr=echostr)
    except push.WeChatRequestError as exc:
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
        envelope = push.open_envelope(
            body, params, keys, accept_plain=delivery.kefu.settings.channels.wechat.accept_plain)
        if delivery.wechat_replay is not None:
            # A signed query carries one message while its timestamp is fresh; a retry of
            # that message passes (and is answered as before), any other is refused.
            await delivery.wechat_replay.admit(params,
                                               digest=push.message_digest(envelope.fields))
        inbound = push.to_inbound(envelope.fields)
    except push.WeChatRequestError as exc:
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
        texts = await _passive_texts(delivery, result)
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        # The turn is stored; its replies go out through the API after the passive hold.
        failures.failure("wechat.passive", "could not take replies for a passive answer",
                         exc=exc)
        return PlainTextResponse(SUCCESS)
    if not texts:
        delivery.dispatcher.wake()
        return PlainTextResponse(SUCCESS)
    xml = render_reply(envelope.fields, SEPARATOR.join(texts), keys=keys,
                       reply_key=envelope.reply_key, nonce=secrets.token_hex(8))
    return Response(xml, media_type="application/xml")


async def _passive_texts(delivery: Delivery, result: TurnResult) -> list[str]:
    """The texts of this push's passive answer: the leading queued replies that fit one
    (the rest become due for the API), or, for WeChat's retry of a push already answered,
    the same texts again (never an API send)."""
    if result.message_id is None:
        return []
    now = datetime.now(UTC)
    async with transaction(delivery.kefu.sessions) as session:
        if result.duplicate:
            return await outbox.passive_texts(session, message_id=result.message_id)
        share = passive_share([queued.message.text for queued in result.queued])
        ids = [queued.outbox_id for queued in result.queued]
        taken = await outbox.take_passive(session, ids=ids[:share], rest=ids[share:],
                                          now=now, rest_due=now + REST_AFTER)
    metrics.OUTBOX_SENT.labels(NAME, outbox.PASSIVE).inc(len(taken))
    if len(ids) > share:
        delivery.dispatcher.wake()
    return [str(row.payload.get("text", "")) for row in taken]
