"""WeChat Official Account: signed (and encrypted) XML in, passive XML replies out."""

from __future__ import annotations

import hashlib
import json
import struct
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from bot.channels.base import Capabilities
from bot.core.messages import UNSUBSCRIBED_EVENT, InboundMessage
from bot.outbox.windows import EVENT_WINDOW, MESSAGE_WINDOW

NAME = "wechat"
# Customer-service and passive text: kept well under WeChat's 2,048-byte limit in Chinese.
MAX_TEXT = 600
WINDOW_SECONDS = 48 * 3600
CAPABILITIES = Capabilities(max_text_chars=MAX_TEXT, buttons=False, contact_request=False,
                            reply_window_seconds=WINDOW_SECONDS)
MAX_BODY_BYTES = 64 * 1024
# messages.channel_message_id holds 128 characters.
MAX_DEDUPE_KEY = 128


class WeChatRequestError(ValueError):
    """The request is not a valid WeChat push; ``status`` is the HTTP answer to give."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class WeChatKeys:
    """The Official Account's server token, AppID and EncodingAESKeys (current first, then
    the previous one during a rotation)."""

    token: str
    app_id: str
    aes_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Envelope:
    """A verified push: its fields, and the key to encrypt the reply with (safe mode)."""

    fields: dict[str, str]
    reply_key: str | None


def verify_url(keys: WeChatKeys, *, signature: str, timestamp: str, nonce: str,
               echostr: str) -> str:
    """The GET check WeChat makes when the server URL is saved: echo back ``echostr``."""
    try:
        check_signature(keys.token, signature, timestamp, nonce)
    except InvalidSignatureException:
        raise WeChatRequestError("signature does not match WECHAT_TOKEN", 403) from None
    return echostr


def _parse(xml: bytes | str) -> dict[str, str]:
    # WeChat never sends a DTD: refuse any, not only the dangerous entity kinds.
    try:
        root = SafeElementTree.fromstring(xml, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise WeChatRequestError(f"body is not acceptable XML: {exc.__class__.__name__}",
                                 400) from None
    if root.tag != "xml":
        raise WeChatRequestError("body is not a WeChat message (<xml> root expected)", 400)
    return {child.tag: (child.text or "") for child in root}


def open_envelope(body: bytes, params: dict[str, str], keys: WeChatKeys, *,
                  accept_plain: bool = False) -> Envelope:
    """Checks size, XML safety and signatures, and decrypts safe-mode messages.

    With an EncodingAESKey configured the account is in safe or compatible mode, where every
    push is encrypted: a push without ``encrypt_type=aes`` is refused unless ``accept_plain``.

    Raises:
        WeChatRequestError: 413 too large, 400 malformed, 403 bad signature or key, or a
            plain push to an account with an AES key.
    """
    if len(body) > MAX_BODY_BYTES:
        raise WeChatRequestError(f"body is larger than {MAX_BODY_BYTES} bytes", 413)
    timestamp, nonce = params.get("timestamp", ""), params.get("nonce", "")
    # WeChat signs the query in every mode: check it before the body is even parsed.
    try:
        check_signature(keys.token, params.get("signature", ""), timestamp, nonce)
    except InvalidSignatureException:
        raise WeChatRequestError("signature does not match WECHAT_TOKEN", 403) from None
    encrypted = params.get("encrypt_type", "raw").lower() == "aes"
    if not encrypted and keys.aes_keys and not accept_plain:
        # In plain mode the signature does not cover the body: an account that encrypts
        # must not take unencrypted messages anyone could have written.
        raise WeChatRequestError("plain push refused: WECHAT_AES_KEY is set, so pushes must be "
                                 "encrypted (channels.wechat.accept_plain allows them)", 403)
    outer = _parse(body)
    if not encrypted:
        return Envelope(outer, None)
    if not keys.aes_keys:
        raise WeChatRequestError("safe mode needs WECHAT_AES_KEY", 403)
    if "Encrypt" not in outer:
        raise WeChatRequestError("safe-mode message without Encrypt", 400)
    for key in keys.aes_keys:
        try:
            crypto = WeChatCrypto(keys.token, key, keys.app_id)
            inner = crypto.decrypt_message({"Encrypt": outer["Encrypt"]},
                                           params.get("msg_signature", ""), timestamp, nonce)
        except InvalidSignatureException:
            raise WeChatRequestError("msg_signature does not match WECHAT_TOKEN", 403) from None
        except (InvalidAppIdException, ValueError, struct.error, IndexError):
            continue  # a wrong key garbles the padding, the length or the AppID: try the next
        return Envelope(_parse(inner), key)
    raise WeChatRequestError("message does not decrypt with WECHAT_AES_KEY", 403)


def message_digest(fields: dict[str, str]) -> str:
    """A digest of the message a push carried (decrypted), to tell a retry from a replay."""
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def dedupe_key(fields: dict[str, str]) -> str:
    """MsgId for messages; events have none, so sender + time + event stand for it."""
    if fields.get("MsgId"):
        key = f"msg:{fields['MsgId']}"
    else:
        key = (f"ev:{fields.get('FromUserName', '')}:{fields.get('CreateTime', '')}:"
               f"{fields.get('Event', '')}")
    if len(key) > MAX_DEDUPE_KEY:
        # WeChat's own keys are far shorter; an odd one still fits the column, and its retry
        # still maps to the same key.
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def to_inbound(fields: dict[str, str], *, received_at: datetime | None = None
               ) -> InboundMessage | None:
    """The dialogue's view of a push; ``None`` for pushes that need no answer."""
    sender = fields.get("FromUserName", "")
    if not sender or len(sender) > 128:
        raise WeChatRequestError("FromUserName is missing or too long", 400)
    kind = fields.get("MsgType", "")
    now = received_at or datetime.now(UTC)
    text: str
    window = MESSAGE_WINDOW
    payload: str | None = None
    if kind == "text":
        text = fields.get("Content", "")
    elif kind == "voice":
        text = fields.get("Recognition", "").strip()
        payload = None if text else "voice_unrecognised"
    elif kind == "event":
        event = fields.get("Event", "").lower()
        key = fields.get("EventKey", "")
        window = EVENT_WINDOW
        if event == "subscribe":
            scene = key.removeprefix("qrscene_")
            text = f"/start {scene}".strip()
        elif event == "unsubscribe":
            text, window, payload = "", "", UNSUBSCRIBED_EVENT
        elif event == "scan":
            text = f"/start {key}".strip()
        elif event == "click":
            text = key
        else:
            return None  # VIEW, LOCATION, TEMPLATESENDJOBFINISH …: nothing to say
    elif kind in {"image", "video", "shortvideo", "location", "link", "file"}:
        text, payload = "", f"unsupported:{kind}"
    else:
        return None
    return InboundMessage(channel=NAME, sender_id=sender, text=text, received_at=now,
                          message_id=dedupe_key(fields), payload=payload,
                          opens_window=window or None)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_reply(fields: dict[str, str], text: str, *, keys: WeChatKeys,
                 reply_key: str | None, nonce: str) -> str:
    """A passive text reply to the push ``fields``, encrypted when the push was."""
    now = int(time.time())
    xml = ("<xml>"
           f"<ToUserName>{_cdata(fields.get('FromUserName', ''))}</ToUserName>"
           f"<FromUserName>{_cdata(fields.get('ToUserName', ''))}</FromUserName>"
           f"<CreateTime>{now}</CreateTime>"
           "<MsgType><![CDATA[text]]></MsgType>"
           f"<Content>{_cdata(text)}</Content>"
           "</xml>")
    if reply_key is None:
        return xml
    crypto = WeChatCrypto(keys.token, reply_key, keys.app_id)
    encrypted: Any = crypto.encrypt_message(xml, nonce, str(now))
    return str(encrypted)
