"""WeChat's push side: a pusher that signs, encrypts and retries like WeChat's servers."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from xml.etree.ElementTree import ParseError

import httpx
from defusedxml import DefusedXmlException
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from kefu_sim.limits import Clock
from kefu_sim.wechat_xml import (
    DEFAULT_ACCOUNT,
    DEFAULT_APPID,
    Fields,
    cdata,
    event_message,
    parse_xml,
    render_xml,
    signature,
    text_message,
)

PushMode = Literal["plain", "compat", "safe"]
InteractionKind = Literal["message", "event", "unsubscribe"]

# Interactions that open a short customer-service window (3 messages in 1 minute).
_EVENT_GRANTS = frozenset({"subscribe", "CLICK", "SCAN"})


@dataclass(frozen=True, slots=True)
class PushResult:
    """How WeChat would see the webhook's answer to one push (after its retries)."""

    attempts: int
    status_code: int | None
    body: str = ""
    reply: dict[str, str] | None = None
    """The passive reply's fields, decrypted in safe mode; None for "success"/empty."""
    reply_xml: str | None = None
    error: str | None = None
    """Why WeChat would show the user "该公众号暂时无法提供服务", or None."""

    @property
    def ok(self) -> bool:
        return self.error is None


class WeChatPusher:
    """Pushes messages to a Kefu WeChat webhook the way WeChat's servers do.

    Modes: ``plain``; ``compat`` (plain fields plus Encrypt); ``safe`` (only Encrypt).
    A push waits ``timeout`` seconds (WeChat: 5) per attempt and makes ``attempts``
    (WeChat: 3) with identical bytes, so the receiver sees the same MsgId each time.
    An abandoned attempt is not cancelled, since the real server keeps working on it.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str,
        appid: str = DEFAULT_APPID,
        encoding_aes_key: str | None = None,
        mode: PushMode = "plain",
        account: str = DEFAULT_ACCOUNT,
        timeout: float = 5.0,
        attempts: int = 3,
        client: httpx.AsyncClient | None = None,
        on_interaction: Callable[[str, InteractionKind], None] | None = None,
        clock: Clock = time.time,
    ) -> None:
        if mode != "plain" and not encoding_aes_key:
            raise ValueError(f"WeChatPusher mode {mode!r} needs encoding_aes_key")
        self.url = url
        self.token = token
        self.appid = appid
        self.mode = mode
        self.account = account
        self.timeout = timeout
        self.attempts = attempts
        self._crypto = WeChatCrypto(token, encoding_aes_key, appid) if encoding_aes_key else None
        self._client = client or httpx.AsyncClient()
        self._owns_client = client is None
        self._on_interaction = on_interaction
        self._clock = clock
        self._abandoned: set[asyncio.Task[httpx.Response]] = set()

    async def __aenter__(self) -> WeChatPusher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel attempts still running after their timeout and close the HTTP client."""
        for task in list(self._abandoned):
            task.cancel()
        await asyncio.gather(*self._abandoned, return_exceptions=True)
        if self._owns_client:
            await self._client.aclose()

    def _signed_query(self, *, bad_signature: bool) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        sign = signature(self.token, timestamp, nonce)
        if bad_signature:
            sign = signature(self.token + "-wrong", timestamp, nonce)
        return {"signature": sign, "timestamp": timestamp, "nonce": nonce}

    async def verify(self, *, bad_signature: bool = False) -> bool:
        """The GET URL check WeChat makes when the webhook is configured: echostr echoed?"""
        echostr = str(secrets.randbits(62))
        params = {**self._signed_query(bad_signature=bad_signature), "echostr": echostr}
        response = await self._client.get(self.url, params=params, timeout=self.timeout)
        return response.status_code == 200 and response.text == echostr

    # --- shortcuts for the common messages -----------------------------------------------

    async def text(self, openid: str, content: str, **options: Any) -> PushResult:
        """Push a text message from ``openid``; options go to :meth:`push`."""
        now = int(self._clock())
        message = text_message(content, openid=openid, account=self.account, create_time=now)
        return await self.push(message, **options)

    async def event(self, openid: str, event: str, **fields: Any) -> PushResult:
        """Push an event from ``openid``; fields (event_key, ticket) go to the builder."""
        now = int(self._clock())
        message = event_message(
            event, openid=openid, account=self.account, create_time=now, **fields
        )
        return await self.push(message)

    # --- the push itself -----------------------------------------------------------------

    async def push(self, fields: Fields, *, bad_signature: bool = False) -> PushResult:
        """Sign (and encrypt) ``fields``, POST with WeChat's retries, and decode the reply."""
        openid = str(fields["FromUserName"])
        fields = {**fields}
        if "CreateTime" not in fields:
            fields["CreateTime"] = int(self._clock())
        params, body = self._envelope(render_xml(fields), bad_signature=bad_signature)
        self._notify(openid, fields)
        response: httpx.Response | None = None
        attempt = 0
        for attempt in range(1, self.attempts + 1):  # noqa: B007 - reported in the result
            response = await self._attempt(params, body)
            if response is not None:
                break
        if response is None:
            error = f"no response within {self.timeout} s in {attempt} attempts"
            return PushResult(attempt, None, error=error)
        return self._decode(attempt, response, openid)

    def _envelope(self, xml: str, *, bad_signature: bool) -> tuple[dict[str, str], bytes]:
        params = self._signed_query(bad_signature=bad_signature)
        if self.mode == "plain" or self._crypto is None:
            return params, xml.encode()
        encrypt = PrpCrypto(self._crypto.key).encrypt(xml, self.appid).decode()
        msg_signature = signature(self.token, params["timestamp"], params["nonce"], encrypt)
        if bad_signature:
            msg_signature = signature(
                self.token + "-wrong", params["timestamp"], params["nonce"], encrypt
            )
        params.update(encrypt_type="aes", msg_signature=msg_signature)
        if self.mode == "safe":
            to_user = parse_xml(xml).get("ToUserName", self.account)
            wrapped = render_xml({"ToUserName": to_user, "Encrypt": encrypt})
        else:
            wrapped = xml.replace("</xml>", f"<Encrypt>{cdata(encrypt)}</Encrypt></xml>")
        return params, wrapped.encode()

    def _notify(self, openid: str, fields: Fields) -> None:
        if self._on_interaction is None:
            return
        if fields.get("MsgType") != "event":
            self._on_interaction(openid, "message")
        elif fields.get("Event") == "unsubscribe":
            self._on_interaction(openid, "unsubscribe")
        elif fields.get("Event") in _EVENT_GRANTS:
            self._on_interaction(openid, "event")

    async def _attempt(self, params: dict[str, str], body: bytes) -> httpx.Response | None:
        """One delivery; None when it times out or the connection fails."""
        task = asyncio.ensure_future(
            self._client.post(
                self.url, params=params, content=body, headers={"Content-Type": "text/xml"}
            )
        )
        done, _ = await asyncio.wait({task}, timeout=self.timeout)
        if task not in done:
            # WeChat drops the connection and retries; the receiver keeps running meanwhile.
            self._abandoned.add(task)
            task.add_done_callback(self._forget)
            return None
        try:
            return task.result()
        except httpx.HTTPError:
            return None

    def _forget(self, task: asyncio.Task[httpx.Response]) -> None:
        self._abandoned.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it as unhandled

    def _decode(self, attempts: int, response: httpx.Response, openid: str) -> PushResult:
        text = response.text
        if response.status_code != 200:
            status = response.status_code
            return PushResult(attempts, status, text, error=f"HTTP {status}")
        if text.strip() in ("", "success"):
            return PushResult(attempts, 200, text)
        try:
            reply_xml, reply = self._open_reply(text)
        except ValueError as exc:
            return PushResult(attempts, 200, text, error=str(exc))
        error: str | None = None
        if reply.get("ToUserName") != openid:
            error = f"reply ToUserName {reply.get('ToUserName')!r} is not the sender {openid!r}"
        elif reply.get("FromUserName") != self.account:
            error = f"reply FromUserName {reply.get('FromUserName')!r} is not {self.account!r}"
        elif not reply.get("MsgType"):
            error = "reply has no MsgType"
        return PushResult(attempts, 200, text, reply=reply, reply_xml=reply_xml, error=error)

    def _open_reply(self, text: str) -> tuple[str, dict[str, str]]:
        """Parse a passive reply, checking and decrypting it when it is encrypted."""
        try:
            outer = parse_xml(text)
        except (ParseError, DefusedXmlException) as exc:
            raise ValueError(f"reply is not valid XML: {exc}") from exc
        if "Encrypt" not in outer:
            if self.mode == "safe":
                raise ValueError("safe mode needs an encrypted reply, got plain XML")
            return text, outer
        if self._crypto is None:
            raise ValueError("got an encrypted reply but no EncodingAESKey is configured")
        expected = signature(
            self.token, outer.get("TimeStamp", ""), outer.get("Nonce", ""), outer["Encrypt"]
        )
        if outer.get("MsgSignature") != expected:
            raise ValueError("encrypted reply has a wrong MsgSignature")
        try:
            inner = PrpCrypto(self._crypto.key).decrypt(outer["Encrypt"], self.appid)
        except Exception as exc:  # wechatpy raises bare or its own errors on a bad key/appid
            raise ValueError(f"cannot decrypt the reply: {exc!r}") from exc
        try:
            return inner, parse_xml(inner)
        except (ParseError, DefusedXmlException) as exc:
            raise ValueError(f"decrypted reply is not valid XML: {exc}") from exc
