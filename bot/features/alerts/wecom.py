"""Sends on-call alerts to a WeCom (企业微信) group robot: POST {"msgtype": "text", …} to its
webhook URL, which answers {"errcode": 0} when the message was posted."""

from __future__ import annotations

import httpx

from bot.channels.base import PermanentError, RateLimited, TransientError
from bot.core.messages import OutboundMessage
from bot.features.alerts.oncall import WECOM

# A robot may post 20 messages a minute; errcode 45009 says the limit was reached.
RATE_LIMITED = 45009
# The robot's text content is limited to 2048 bytes.
MAX_BYTES = 2048


def _clip(text: str) -> str:
    data = text.encode("utf-8")
    if len(data) <= MAX_BYTES:
        return text
    return data[:MAX_BYTES - 3].decode("utf-8", errors="ignore") + "…"


class WeComRobotSender:
    """The outbox sender of the ``oncall-wecom`` channel. Errors never carry the URL: its
    ``key`` lets anyone post to the group."""

    name = WECOM

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self._url = url
        self._client = httpx.AsyncClient(timeout=timeout)

    async def send(self, message: OutboundMessage) -> str | None:
        body = {"msgtype": "text", "text": {"content": _clip(message.text)}}
        try:
            response = await self._client.post(self._url, json=body)
        except httpx.HTTPError as exc:
            raise TransientError(f"wecom robot unreachable: {exc.__class__.__name__}") from None
        if response.status_code == 429:
            raise RateLimited("wecom robot HTTP 429", retry_after=60)
        if response.status_code >= 500:
            raise TransientError(f"wecom robot HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PermanentError(f"wecom robot HTTP {response.status_code}")
        try:
            answer = response.json()
            errcode = int(answer.get("errcode", -1))
        except (ValueError, AttributeError, TypeError):
            raise TransientError("wecom robot answered something else than JSON") from None
        if errcode == 0:
            return None
        reason = f"wecom robot errcode {errcode}: {str(answer.get('errmsg', ''))[:120]}"
        if errcode == RATE_LIMITED:
            raise RateLimited(reason, retry_after=60)
        if errcode == -1:  # "system busy"
            raise TransientError(reason)
        raise PermanentError(reason)

    async def aclose(self) -> None:
        await self._client.aclose()
