"""Sends customer-service messages through wechatpy, mapping WeChat's error codes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.channels.base import PermanentError, RateLimited, TransientError
from bot.channels.wechat import NAME
from bot.channels.wechat.channel import CHANNEL
from bot.channels.wechat.token import SharedTokenMixin
from bot.core.messages import OutboundMessage

log = logging.getLogger(__name__)

# errcode → (what to do, why). The customer-service API refuses outside the reply window
# (45015), over its quota (45047), for unfollowed users (43004) and unknown openids (40003).
_PERMANENT = {45015: "outside the 48-hour reply window", 45047: "reply quota used up",
              43004: "user unfollowed the account", 40003: "unknown openid",
              45002: "message too long", 40008: "invalid message type"}
_UNDELIVERABLE = {40003}
# Template sends: a rejected template id or data is the configuration's fault, not the user's.
_TEMPLATE_PERMANENT = {40037: "template id rejected by the platform (check "
                              "proactive.wechat_templates)",
                       47001: "template data rejected (check the field mapping)",
                       43004: "user unfollowed the account", 40003: "unknown openid"}
_UNSUBSCRIBED = {43004}


def api_root(base_url: str) -> str:
    """WECHAT_API_BASE_URL may be the host (https://api.weixin.qq.com) or …/cgi-bin/."""
    return base_url.rstrip("/").removesuffix("/cgi-bin")


def make_client(app_id: str, secret: str, base_url: str, *, session: Any = None,
                timeout: float = 5.0) -> WeChatClient:
    root = api_root(base_url)

    class KefuWeChatClient(SharedTokenMixin, WeChatClient):  # type: ignore[misc]
        API_BASE_URL = f"{root}/cgi-bin/"

        def fetch_access_token(self) -> Any:
            # One fetch for all threads and processes (wechat/token.py); wechatpy hard-codes
            # the public token URL, so follow the configured base instead.
            return self.fetch_shared(lambda: self._fetch_access_token(
                url=f"{root}/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid,
                        "secret": self.secret}))

    return KefuWeChatClient(app_id, secret, session=session, timeout=timeout)


class WeChatSender:
    """Customer-service text messages; wechatpy is synchronous, so calls run in a thread."""

    name = NAME

    def __init__(self, client: WeChatClient) -> None:
        self.client = client

    async def send(self, message: OutboundMessage) -> str | None:
        # Replies are rendered into WeChat-sized rows when they are queued; anything queued
        # another way is cut here, so no part is refused as too long (45002).
        for part in CHANNEL.render(message):
            await self._send_text(message.recipient_id, part.text)
        return None

    async def _send_text(self, openid: str, text: str) -> None:
        try:
            await asyncio.to_thread(self.client.message.send_text, openid, text)
        except WeChatClientException as exc:
            code = int(exc.errcode) if exc.errcode is not None else None
            if code in _PERMANENT:
                raise PermanentError(f"wechat {code}: {_PERMANENT[code]}",
                                     undeliverable=code in _UNDELIVERABLE,
                                     unsubscribed=code in _UNSUBSCRIBED) from exc
            if code == 45009:  # the API's daily call limit: wait, do not hammer it
                raise RateLimited("wechat 45009: API daily limit", retry_after=3600) from exc
            raise TransientError(f"wechat {code}: {exc.errmsg}") from exc
        except OSError as exc:
            raise TransientError(f"wechat: {exc.__class__.__name__}") from exc

    async def send_template(self, openid: str, template: dict[str, Any]) -> str | None:
        """A template message (outside the 48-hour window); returns WeChat's msgid."""
        try:
            result = await asyncio.to_thread(
                self.client.message.send_template, openid, template["template_id"],
                template.get("data") or {})
        except WeChatClientException as exc:
            code = int(exc.errcode) if exc.errcode is not None else None
            if code in _TEMPLATE_PERMANENT:
                raise PermanentError(f"wechat {code}: {_TEMPLATE_PERMANENT[code]}",
                                     unsubscribed=code == 43004) from exc
            raise TransientError(f"wechat {code}: {exc.errmsg}") from exc
        except OSError as exc:
            raise TransientError(f"wechat: {exc.__class__.__name__}") from exc
        msgid = result.get("msgid") if isinstance(result, dict) else None
        return str(msgid) if msgid is not None else None

    async def aclose(self) -> None:
        return None
