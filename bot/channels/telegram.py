"""Telegram: updates in, Bot API message parameters out. Only private chats are served."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.channels.base import PRINTABLE_ID, Capabilities, storable_text
from bot.core.messages import InboundMessage, OutboundMessage
from bot.core.phones import normalize_phone

NAME = "telegram"
MAX_TEXT = 4096
CAPABILITIES = Capabilities(max_text_chars=MAX_TEXT, buttons=True, contact_request=True)
# callback_data is limited to 1-64 bytes; longer payloads cannot be inline buttons.
MAX_CALLBACK_BYTES = 64
BIND_COMMAND = "/bind_account"


# Telegram's ids are 64-bit integers; anything larger is not from Telegram, and would make
# sender and message ids longer than their columns (128 characters).
_Id = Annotated[int, Field(ge=-(2**63), lt=2**63)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _User(_Model):
    id: _Id
    is_bot: bool = False
    language_code: str | None = None


class _Chat(_Model):
    id: _Id
    type: str


class _Contact(_Model):
    phone_number: str = Field(max_length=64)
    user_id: _Id | None = None


class _Message(_Model):
    message_id: _Id
    chat: _Chat
    from_: _User | None = Field(default=None, alias="from")
    text: str | None = Field(default=None, max_length=8192)
    caption: str | None = Field(default=None, max_length=8192)
    contact: _Contact | None = None


class _CallbackQuery(_Model):
    # Stored as "cb:<id>" in a 128-character column; Telegram's are about 20 characters.
    id: str = Field(min_length=1, max_length=64, pattern=PRINTABLE_ID)
    from_: _User = Field(alias="from")
    message: _Message | None = None
    data: str | None = Field(default=None, max_length=256)


class _MemberUpdate(_Model):
    chat: _Chat
    new_chat_member: dict[str, Any]


class Update(_Model):
    update_id: _Id
    message: _Message | None = None
    callback_query: _CallbackQuery | None = None
    my_chat_member: _MemberUpdate | None = None


class MalformedUpdate(ValueError):
    """The body is not a Telegram update."""


@dataclass(frozen=True, slots=True)
class ParsedUpdate:
    """What Kefu takes from an update: a message for the dialogue and/or a side effect."""

    update_id: int
    inbound: InboundMessage | None = None
    callback_query_id: str | None = None
    # The user blocked (True) or unblocked (False) the bot.
    blocked: bool | None = None
    chat_id: str | None = None


def parse_update(data: Any, *, received_at: datetime | None = None) -> ParsedUpdate:
    """Normalises an update; kinds Kefu does not serve come back with no inbound message."""
    try:
        update = Update.model_validate(data)
    except ValidationError as exc:
        raise MalformedUpdate(f"not a Telegram update: {exc.error_count()} problem(s)") from None
    now = received_at or datetime.now(UTC)
    if update.message is not None:
        return ParsedUpdate(update.update_id, inbound=_from_message(update.message, now))
    if update.callback_query is not None:
        query = update.callback_query
        chat_id = query.message.chat.id if query.message else query.from_.id
        inbound = InboundMessage(
            channel=NAME, sender_id=str(chat_id), text=storable_text(query.data or ""),
            received_at=now,
            message_id=f"cb:{query.id}", language_hint=query.from_.language_code,
            payload=storable_text(query.data) if query.data is not None else None)
        return ParsedUpdate(update.update_id, inbound=inbound, callback_query_id=query.id)
    if update.my_chat_member is not None and update.my_chat_member.chat.type == "private":
        status = str(update.my_chat_member.new_chat_member.get("status", ""))
        return ParsedUpdate(update.update_id, blocked=status == "kicked",
                            chat_id=str(update.my_chat_member.chat.id))
    return ParsedUpdate(update.update_id)


def _from_message(message: _Message, now: datetime) -> InboundMessage | None:
    if message.chat.type != "private" or message.from_ is None or message.from_.is_bot:
        return None
    # A chat's message ids are unique and a redelivered update repeats them; unlike
    # update_id they do not restart at random after a quiet week.
    inbound = InboundMessage(channel=NAME, sender_id=str(message.chat.id),
                             text=storable_text(message.text or message.caption or ""),
                             received_at=now,
                             message_id=f"m:{message.chat.id}:{message.message_id}",
                             language_hint=message.from_.language_code)
    if message.contact is not None:
        own = message.contact.user_id == message.from_.id
        phone = normalize_phone(message.contact.phone_number) if own else None
        return replace(inbound, text=BIND_COMMAND, verified_phone=phone,
                       payload=None if own else "foreign_contact")
    return inbound


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cuts long text at paragraph, then line, then space boundaries; never mid-word if it
    can help it, never an empty part."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not parts:
        parts.append(rest)
    return [part for part in parts if part] or [""]


def send_parameters(message: OutboundMessage) -> list[dict[str, Any]]:
    """sendMessage parameters for a message; long text becomes several messages with the
    buttons on the last one."""
    chunks = split_text(message.text or " ")
    markup: dict[str, Any] | None = None
    text_suffix = ""
    if message.request_contact:
        title = message.buttons[0].title if message.buttons else "📱"
        markup = {"keyboard": [[{"text": title, "request_contact": True}]],
                  "resize_keyboard": True, "one_time_keyboard": True}
    elif message.buttons:
        if all(len(b.payload.encode()) <= MAX_CALLBACK_BYTES for b in message.buttons):
            markup = {"inline_keyboard": [[{"text": b.title[:64], "callback_data": b.payload}]
                                          for b in message.buttons]}
        else:
            # Degrade to text the customer can type back.
            text_suffix = "\n" + "\n".join(f"• {b.title}: {b.payload}" for b in message.buttons)
    if text_suffix:
        chunks = split_text("\n".join(chunks) + text_suffix)
    params: list[dict[str, Any]] = [{"chat_id": message.recipient_id, "text": chunk}
                                     for chunk in chunks]
    if markup is not None:
        params[-1]["reply_markup"] = markup
    return params
