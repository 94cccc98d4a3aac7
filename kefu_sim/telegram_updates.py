"""Builders for realistic Telegram update dicts, and a pusher that posts them to a webhook."""

from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from kefu_sim.defaults import DEFAULT_BOT_ID as DEFAULT_BOT_ID

DEFAULT_BOT_USERNAME = "kefu_sim_bot"
DEFAULT_USER_ID = 10001
SECRET_TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name

# Real update ids start at an arbitrary number and restart at a random one after a quiet
# week; a random base keeps tests from assuming they start at 1, while the sequence stays
# increasing so getUpdates offsets work.
_id_lock = threading.Lock()
_update_ids = itertools.count(random.randrange(100_000_000, 900_000_000))
_message_ids = itertools.count(random.randrange(1_000, 9_000))


def next_update_id() -> int:
    """A fresh update_id, unique within this process."""
    with _id_lock:
        return next(_update_ids)


def _next_message_id() -> int:
    with _id_lock:
        return next(_message_ids)


def _utf16_len(text: str) -> int:
    # Entity offsets and lengths are counted in UTF-16 code units by the Bot API.
    return len(text.encode("utf-16-le")) // 2


def user_dict(
    user_id: int = DEFAULT_USER_ID,
    *,
    first_name: str = "Test",
    username: str | None = None,
    language_code: str = "zh-hans",
) -> dict[str, Any]:
    """A Telegram ``User`` object for a human user."""
    user: dict[str, Any] = {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "language_code": language_code,
    }
    if username is not None:
        user["username"] = username
    return user


def bot_user_dict(
    bot_id: int = DEFAULT_BOT_ID, username: str = DEFAULT_BOT_USERNAME
) -> dict[str, Any]:
    """The ``User`` object that getMe returns and that marks the bot's own messages."""
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": "Kefu Simulator",
        "username": username,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


def chat_dict(chat_id: int, user: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``Chat`` object: private for positive ids, (super)group for negative ones."""
    if chat_id > 0:
        chat: dict[str, Any] = {"id": chat_id, "type": "private"}
        if user is not None:
            chat["first_name"] = user.get("first_name", "Test")
            if "username" in user:
                chat["username"] = user["username"]
        return chat
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": "Simulated group"}


def _message(
    *,
    user: dict[str, Any],
    chat_id: int | None,
    date: int | None,
    message_id: int | None,
    extra: dict[str, Any],
) -> dict[str, Any]:
    return {
        "message_id": message_id if message_id is not None else _next_message_id(),
        "from": user,
        "chat": chat_dict(chat_id if chat_id is not None else user["id"], user),
        "date": date if date is not None else int(time.time()),
        **extra,
    }


def text_update(
    text: str,
    *,
    user_id: int = DEFAULT_USER_ID,
    chat_id: int | None = None,
    first_name: str = "Test",
    username: str | None = None,
    message_id: int | None = None,
    date: int | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    """A text message update; a leading ``/command`` gets its bot_command entity as on Telegram."""
    extra: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        extra["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
    user = user_dict(user_id, first_name=first_name, username=username)
    message = _message(user=user, chat_id=chat_id, date=date, message_id=message_id, extra=extra)
    return {"update_id": update_id or next_update_id(), "message": message}


def start_update(payload: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """``/start`` as sent by a t.me/<bot>?start=<payload> deep link (payload optional)."""
    text = "/start" if not payload else f"/start {payload}"
    return text_update(text, **kwargs)


def contact_update(
    phone_number: str,
    *,
    user_id: int = DEFAULT_USER_ID,
    contact_user_id: int | None = None,
    first_name: str = "Test",
    chat_id: int | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    """A shared contact; ``contact_user_id`` defaults to the sender (their own contact).

    Pass another id to simulate a user forwarding someone else's contact card.
    """
    contact = {
        "phone_number": phone_number,
        "first_name": first_name,
        "user_id": user_id if contact_user_id is None else contact_user_id,
    }
    user = user_dict(user_id, first_name=first_name)
    message = _message(
        user=user, chat_id=chat_id, date=None, message_id=None, extra={"contact": contact}
    )
    return {"update_id": update_id or next_update_id(), "message": message}


def callback_update(
    data: str,
    *,
    user_id: int = DEFAULT_USER_ID,
    chat_id: int | None = None,
    message_id: int | None = None,
    message_text: str = "Please choose:",
    callback_query_id: str | None = None,
    bot_id: int = DEFAULT_BOT_ID,
    update_id: int | None = None,
) -> dict[str, Any]:
    """A press on an inline keyboard button under one of the bot's own messages."""
    user = user_dict(user_id)
    bot_message = _message(
        user=bot_user_dict(bot_id),
        chat_id=chat_id if chat_id is not None else user_id,
        date=None,
        message_id=message_id,
        extra={"text": message_text},
    )
    query = {
        "id": callback_query_id or str(random.getrandbits(63)),
        "from": user,
        "chat_instance": str(random.getrandbits(63)),
        "data": data,
        "message": bot_message,
    }
    return {"update_id": update_id or next_update_id(), "callback_query": query}


def chat_ids_in(update: dict[str, Any]) -> set[str]:
    """The chat ids an update makes known to the bot (private chats, groups, callers)."""
    found: set[str] = set()
    for value in update.values():
        if not isinstance(value, dict):
            continue
        for holder in (value, value.get("message") or {}):
            chat = holder.get("chat") if isinstance(holder, dict) else None
            if isinstance(chat, dict) and "id" in chat:
                found.add(str(chat["id"]))
        sender = value.get("from")
        if isinstance(sender, dict) and "id" in sender:
            found.add(str(sender["id"]))
    return found


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """How a webhook push ended: last HTTP status (None if no answer) and attempts made."""

    status_code: int | None
    attempts: int
    body: bytes

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def push_update(
    url: str,
    update: dict[str, Any],
    *,
    secret_token: str | None = None,
    client: httpx.AsyncClient | None = None,
    request_timeout: float = 10.0,
    attempts: int = 1,
) -> WebhookDelivery:
    """POST ``update`` to a webhook as Telegram does, retrying non-2xx up to ``attempts``.

    Pass ``client`` (e.g. one with ``httpx.ASGITransport``) to reach an app in-process.
    """
    headers = {SECRET_TOKEN_HEADER: secret_token} if secret_token else {}
    owned = client is None
    http = client or httpx.AsyncClient()
    status: int | None = None
    body = b""
    try:
        for attempt in range(1, attempts + 1):
            try:
                response = await http.post(
                    url, json=update, headers=headers, timeout=request_timeout
                )
            except httpx.HTTPError:
                status, body = None, b""
            else:
                status, body = response.status_code, response.content
                if 200 <= status < 300:
                    return WebhookDelivery(status, attempt, body)
        return WebhookDelivery(status, attempts, body)
    finally:
        if owned:
            await http.aclose()
