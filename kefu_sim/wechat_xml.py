"""WeChat push XML: signatures, rendering and parsing, and builders for realistic messages."""

from __future__ import annotations

import hashlib
import secrets
import string
import time
from collections.abc import Mapping

from defusedxml import ElementTree

from kefu_sim.defaults import DEFAULT_APPID as DEFAULT_APPID

DEFAULT_ACCOUNT = "gh_3a5b7c9d1e2f"
DEFAULT_OPENID = "oKefu0SimUser0000000000001"

Fields = Mapping[str, str | int]


def signature(token: str, *parts: str) -> str:
    """WeChat's signature: sha1 over the sorted, concatenated token and parts."""
    return hashlib.sha1("".join(sorted([token, *parts])).encode()).hexdigest()  # noqa: S324


def new_encoding_aes_key() -> str:
    """A random 43-character EncodingAESKey, as the Official Account console generates."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(43))


def new_msg_id() -> int:
    """A 64-bit-ish MsgId like WeChat's (they are large and not sequential)."""
    return 24_000_000_000_000_000 + secrets.randbelow(10**17)


def cdata(text: str) -> str:
    # "]]>" cannot appear inside CDATA; split it across two sections as XML requires.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_xml(fields: Fields) -> str:
    """Render fields as WeChat does: strings in CDATA, numbers bare, in the given order."""
    body = "".join(
        f"<{name}>{value if isinstance(value, int) else cdata(value)}</{name}>"
        for name, value in fields.items()
    )
    return f"<xml>{body}</xml>"


def parse_xml(text: str) -> dict[str, str]:
    """Flat WeChat XML to a dict of tag → text (safe against entity tricks)."""
    root = ElementTree.fromstring(text)
    return {child.tag: child.text or "" for child in root}


def _base(
    openid: str, account: str, msg_type: str, create_time: int | None
) -> dict[str, str | int]:
    return {
        "ToUserName": account,
        "FromUserName": openid,
        "CreateTime": int(time.time()) if create_time is None else create_time,
        "MsgType": msg_type,
    }


def text_message(
    content: str,
    *,
    openid: str = DEFAULT_OPENID,
    account: str = DEFAULT_ACCOUNT,
    msg_id: int | None = None,
    create_time: int | None = None,
) -> dict[str, str | int]:
    """A user's text message."""
    fields = _base(openid, account, "text", create_time)
    fields.update(Content=content, MsgId=msg_id or new_msg_id())
    return fields


def voice_message(
    *,
    recognition: str | None = None,
    openid: str = DEFAULT_OPENID,
    account: str = DEFAULT_ACCOUNT,
    msg_id: int | None = None,
    create_time: int | None = None,
) -> dict[str, str | int]:
    """A voice message; ``recognition`` is WeChat's speech-to-text when it is switched on."""
    fields = _base(openid, account, "voice", create_time)
    fields.update(MediaId=secrets.token_urlsafe(48), Format="amr")
    if recognition is not None:
        fields["Recognition"] = recognition
    fields["MsgId"] = msg_id or new_msg_id()
    return fields


def event_message(
    event: str,
    *,
    event_key: str | None = None,
    ticket: str | None = None,
    openid: str = DEFAULT_OPENID,
    account: str = DEFAULT_ACCOUNT,
    create_time: int | None = None,
) -> dict[str, str | int]:
    """An event: subscribe, unsubscribe, CLICK (menu key), SCAN (scene key and ticket).

    A subscribe through a QR code carries ``event_key="qrscene_<scene>"`` and a ticket.
    Events have no MsgId; receivers dedupe them on FromUserName + CreateTime.
    """
    fields = _base(openid, account, "event", create_time)
    fields["Event"] = event
    if event_key is not None:
        fields["EventKey"] = event_key
    if ticket is not None:
        fields["Ticket"] = ticket
    return fields
