"""Telegram: updates in, Bot API message parameters out. Only private chats are served."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.channels.base import PRINTABLE_ID, Capabilities, fit, storable_text
from bot.channels.telegram import NAME
from bot.channels.text import split_text as _split
from bot.core.messages import InboundMessage, OutboundMessage
from bot.core.phones import normalize_phone

if TYPE_CHECKING:
    # python-telegram-bot (about 20 MB) loads with the first update, not with the server.
    from telegram import Message, User

# A text message holds 1-4096 characters.
MAX_TEXT = 4096
CAPABILITIES = Capabilities(max_text_chars=MAX_TEXT, buttons=True, contact_request=True,
                            push=True)
# callback_data is limited to 1-64 bytes; longer payloads cannot be inline buttons.
MAX_CALLBACK_BYTES = 64
BIND_COMMAND = "/bind_account"


# Telegram's ids are 64-bit integers; anything larger is not from Telegram, and would make
# sender and message ids longer than their columns (128 characters).
_ID_RANGE = range(-(2**63), 2**63)
MAX_INPUT_TEXT = 8192
# Stored as "cb:<id>" in a 128-character column; Telegram's are about 20 characters.
MAX_CALLBACK_ID = 64
MAX_CALLBACK_DATA = 256
MAX_PHONE = 64
# What python-telegram-bot raises when a body only looks like an update.
_PTB_PARSE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError,
                     OverflowError, OSError)


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
    """Normalises an update; kinds Kefu does not serve come back with no inbound message.

    python-telegram-bot parses the update; it does not check types or sizes, so the fields
    Kefu stores are checked here (ids within 64 bits, texts within Telegram's own limits).

    Raises:
        MalformedUpdate: the body is not a Telegram update.
    """
    if not isinstance(data, dict):
        raise MalformedUpdate("not a Telegram update: a JSON object is expected")
    from telegram import Update

    try:
        update = Update.de_json(data, None)
    except _PTB_PARSE_ERRORS as exc:
        raise MalformedUpdate(f"not a Telegram update: {exc.__class__.__name__}") from None
    now = received_at or datetime.now(UTC)
    update_id = _id(update.update_id, "update_id")
    if update.message is not None:
        return ParsedUpdate(update_id, inbound=_from_message(update.message, now))
    if update.callback_query is not None:
        query = update.callback_query
        query_id = _text(query.id, "callback_query.id", MAX_CALLBACK_ID)
        if not query_id or not re.match(PRINTABLE_ID, query_id):
            raise MalformedUpdate("not a Telegram update: callback_query.id is not an id")
        user = _user(query.from_user, "callback_query.from")
        chat_id = (_id(query.message.chat.id, "callback_query.message.chat.id")
                   if query.message is not None else user.id)
        data_text = _text(query.data, "callback_query.data", MAX_CALLBACK_DATA)
        inbound = InboundMessage(
            channel=NAME, sender_id=str(chat_id), text=storable_text(data_text or ""),
            received_at=now, message_id=f"cb:{query_id}", language_hint=user.language_code,
            payload=storable_text(data_text) if data_text is not None else None)
        return ParsedUpdate(update_id, inbound=inbound, callback_query_id=query_id)
    member = update.my_chat_member
    if member is not None and member.chat.type == "private":
        return ParsedUpdate(update_id, blocked=member.new_chat_member.status == "kicked",
                            chat_id=str(_id(member.chat.id, "my_chat_member.chat.id")))
    return ParsedUpdate(update_id)


def _id(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in _ID_RANGE:
        raise MalformedUpdate(f"not a Telegram update: {name} is not a 64-bit integer")
    return value


def _text(value: object, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise MalformedUpdate(f"not a Telegram update: {name} is not text of at most "
                              f"{limit} characters")
    return value


@dataclass(frozen=True, slots=True)
class _Sender:
    id: int
    is_bot: bool
    language_code: str | None


def _user(user: User | None, name: str) -> _Sender:
    if user is None:
        raise MalformedUpdate(f"not a Telegram update: {name} is missing")
    code = user.language_code if isinstance(user.language_code, str) else None
    return _Sender(_id(user.id, f"{name}.id"), user.is_bot is True, code)


def _from_message(message: Message, now: datetime) -> InboundMessage | None:
    chat_id = _id(message.chat.id, "message.chat.id")
    message_id = _id(message.message_id, "message.message_id")
    if message.chat.type != "private" or message.from_user is None:
        return None
    user = _user(message.from_user, "message.from")
    if user.is_bot:
        return None
    text = (_text(message.text, "message.text", MAX_INPUT_TEXT)
            or _text(message.caption, "message.caption", MAX_INPUT_TEXT) or "")
    # A chat's message ids are unique and a redelivered update repeats them; unlike
    # update_id they do not restart at random after a quiet week.
    inbound = InboundMessage(channel=NAME, sender_id=str(chat_id), text=storable_text(text),
                             received_at=now, message_id=f"m:{chat_id}:{message_id}",
                             language_hint=user.language_code)
    contact = message.contact
    if contact is not None:
        phone_number = _text(contact.phone_number, "message.contact.phone_number", MAX_PHONE)
        owner = (None if contact.user_id is None
                 else _id(contact.user_id, "message.contact.user_id"))
        own = owner == user.id
        phone = normalize_phone(phone_number or "") if own else None
        return replace(inbound, text=BIND_COMMAND, verified_phone=phone,
                       payload=None if own else "foreign_contact")
    return inbound


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cuts long text at paragraph, then line, then sentence or space boundaries; never
    mid-word if it can help it, never an empty part."""
    return _split(text, limit)


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


@dataclass(frozen=True, slots=True)
class TelegramChannel:
    """Parses an update's message; renders replies as Telegram messages."""

    name: str = NAME
    capabilities: Capabilities = CAPABILITIES

    def parse(self, data: Any, /) -> list[InboundMessage]:
        inbound = parse_update(data).inbound
        return [] if inbound is None else [inbound]

    def render(self, message: OutboundMessage, /) -> list[OutboundMessage]:
        return fit(message, self.capabilities)


CHANNEL = TelegramChannel()
