"""The web channel: Rasa's REST channel shape, so existing widgets and test clients work."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.channels.base import PRINTABLE_ID, Capabilities, storable_text
from bot.core.messages import InboundMessage, OutboundMessage

NAME = "web"
CAPABILITIES = Capabilities(max_text_chars=4000, buttons=True, contact_request=False)
MAX_MESSAGE_CHARS = 10_000


class RestRequest(BaseModel):
    """``{"sender": "…", "message": "…"}`` plus optional extensions."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    sender: str = Field(min_length=1, max_length=128, pattern=PRINTABLE_ID)
    message: str = Field(max_length=MAX_MESSAGE_CHARS)
    # Optional: the client's id for this message, so a resend is recognised.
    message_id: str | None = Field(default=None, min_length=1, max_length=128,
                                   pattern=PRINTABLE_ID)
    # Optional: the widget's language (en, zh-Hans, zh-Hant).
    language: str | None = Field(default=None, max_length=16)


def to_inbound(request: RestRequest, *, channel: str = NAME) -> InboundMessage:
    return InboundMessage(
        channel=channel,
        sender_id=request.sender,
        text=storable_text(request.message),
        received_at=datetime.now(UTC),
        message_id=scoped_id(request.sender, request.message_id),
        language_hint=request.language,
    )


def scoped_id(sender: str, message_id: str | None) -> str | None:
    """The client's message id made the sender's own: a redelivery is answered with the
    replies stored the first time, so one client must never name another's message."""
    if message_id is None:
        return None
    return hashlib.sha256(f"{sender}\x00{message_id}".encode()).hexdigest()


def to_rest(messages: list[OutboundMessage]) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"recipient_id": message.recipient_id, "text": message.text}
        if message.buttons:
            item["buttons"] = [{"title": b.title, "payload": b.payload} for b in message.buttons]
        body.append(item)
    return body
