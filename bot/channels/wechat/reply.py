"""The passive reply: what of a turn's replies fits WeChat's HTTP answer, and its XML."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from bot.channels.wechat.channel import MAX_TEXT_BYTES
from bot.channels.wechat.push import WeChatKeys

# Replies joined into one passive answer are separated by a blank line.
SEPARATOR = "\n\n"


def passive_share(texts: Sequence[str], *, max_bytes: int = MAX_TEXT_BYTES) -> int:
    """How many of the leading ``texts`` go together in one passive answer.

    The limit is on the UTF-8 bytes of the Content, not of the XML: WeChat counts the text
    message's content (the same limit as a customer-service text), while the envelope around
    it is the platform's own format, and in safe mode it is encrypted and base64'd, which would
    make an XML-based limit depend on the mode. Each text is already one WeChat message (the
    channel renders replies within the limit), so the first always fits; the rest go through
    the customer-service API, in order.
    """
    taken, size = 0, 0
    for text in texts:
        added = len(text.encode()) + (len(SEPARATOR.encode()) if taken else 0)
        if taken and size + added > max_bytes:
            break
        taken += 1
        size += added
    return taken


def render_reply(fields: dict[str, str], text: str, *, keys: WeChatKeys,
                 reply_key: str | None, nonce: str) -> str:
    """A passive text reply to the push ``fields``, encrypted when the push was."""
    # wechatpy (about 15 MB) loads with the first WeChat push, not with every server.
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.replies import TextReply

    now = int(time.time())
    # wechatpy's reply writes the XML; it wraps the content in CDATA without escaping a
    # "]]>" inside, so that one sequence is split across two CDATA sections first.
    xml = TextReply(source=fields.get("ToUserName", ""), target=fields.get("FromUserName", ""),
                    content=text.replace("]]>", "]]]]><![CDATA[>"), time=now).render()
    if reply_key is None:
        return str(xml)
    crypto = WeChatCrypto(keys.token, reply_key, keys.app_id)
    encrypted: Any = crypto.encrypt_message(xml, nonce, str(now))
    return str(encrypted)
