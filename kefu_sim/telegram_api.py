"""The HTTP side of the Telegram simulator: Bot API method routes and a small control API."""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kefu_sim.telegram_updates import (
    DEFAULT_USER_ID,
    bot_user_dict,
    chat_dict,
    text_update,
)

if TYPE_CHECKING:
    from kefu_sim.telegram import TelegramSimulator

MAX_TEXT_LENGTH = 4096
"""Telegram counts this in code points, not UTF-16 units (measured live, FerroxLabs/wayland#934)."""
MAX_CALLBACK_DATA_BYTES = 64
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_MARKUP_KINDS = ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply")
_POLL_INTERVAL = 0.02

Handler = Callable[["TelegramSimulator", dict[str, Any]], Awaitable[Any]]


class TelegramApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional retry_after."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def chat_key(chat_id: object) -> str | None:
    """Chat ids arrive as ints (JSON) or strings (form/query); compare them as text."""
    return None if chat_id is None or chat_id == "" else str(chat_id)


def _bad(description: str) -> TelegramApiError:
    return TelegramApiError(400, f"Bad Request: {description}")


async def _read_params(request: Request) -> dict[str, Any]:
    """Merge query string and body; PTB posts form fields with JSON-encoded non-strings."""
    params: dict[str, Any] = dict(request.query_params)
    if request.method != "POST":
        return params
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError as exc:
            raise _bad("can't parse JSON object") from exc
        if not isinstance(body, dict):
            raise _bad("JSON body must be an object")
        params.update(body)
    elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _int(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise _bad(f'field "{name}" must be a number, got {value!r}') from exc


def _bool(params: dict[str, Any], name: str) -> bool:
    return params.get(name) in (True, "true", "True", "1", 1)


def _json(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise _bad(f"can't parse {name} JSON object") from exc
    return value


def _chat_id(params: dict[str, Any]) -> int | str:
    value = params.get("chat_id")
    if value is None or value == "":
        raise _bad("chat_id is empty")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    if text.startswith("@") and len(text) > 1:
        return text
    raise _bad("chat not found")


def _chat_object(chat_id: int | str) -> dict[str, Any]:
    if isinstance(chat_id, int):
        return chat_dict(chat_id)
    # Channels addressed by @username still need a numeric id in the returned Chat.
    fake_id = -1_000_000_000_000 - zlib.crc32(chat_id.encode())
    return {"id": fake_id, "type": "channel", "title": chat_id, "username": chat_id[1:]}


def _reply_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    markup = _json(params, "reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict) or not any(k in markup for k in _MARKUP_KINDS):
        raise _bad("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and len(str(data).encode()) > MAX_CALLBACK_DATA_BYTES:
                raise _bad("BUTTON_DATA_INVALID")
    return markup


async def get_me(sim: TelegramSimulator, params: dict[str, Any]) -> Any:
    return bot_user_dict(sim.config.bot_id, sim.config.bot_username)


async def send_message(sim: TelegramSimulator, params: dict[str, Any]) -> Any:
    chat_id = _chat_id(params)
    text = params.get("text")
    text = "" if text is None else str(text)
    if not text.strip():
        raise _bad("message text is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise _bad("message is too long")
    markup = _reply_markup(params)
    parse_mode = params.get("parse_mode") or None
    sent = sim.accept_message(chat_id, text, markup, parse_mode)
    if sim.config.response_delay > 0:
        await asyncio.sleep(sim.config.response_delay)
    result: dict[str, Any] = {
        "message_id": sent.message_id,
        "from": bot_user_dict(sim.config.bot_id, sim.config.bot_username),
        "chat": _chat_object(chat_id),
        "date": int(sent.at),
        "text": text,
    }
    if markup is not None and "inline_keyboard" in markup:
        result["reply_markup"] = markup
    return result


async def answer_callback_query(sim: TelegramSimulator, params: dict[str, Any]) -> Any:
    if not params.get("callback_query_id"):
        raise _bad("query is too old and response timeout expired or query ID is invalid")
    sim.record_callback_answer(dict(params))
    return True


async def send_chat_action(sim: TelegramSimulator, params: dict[str, Any]) -> Any:
    chat_id = _chat_id(params)
    action = str(params.get("action", ""))
    if action not in CHAT_ACTIONS:
        raise _bad("wrong parameter action in request")
    sim.record_chat_action(chat_id, action)
    return True


async def set_webhook(sim: TelegramSimulator, params: dict[str, Any]) -> Any:
    url = str(params.get("url", ""))
    secret = params.get("secret_token") or None
    if secret is not None and not (
        1 <= len(secret) <= 256 and all(c.isalnum() or c in "_-" for c in secret)
    ):
        raise _bad("secret token contains unallowed characters")
    allowed = _json(params, "allowed_updates")
    sim.set_webhook(
        url=url,
        secret_token=secret,
        allowed_updates=tuple(allowed) if isinstance(allowed, list) else None,
        max_connections=_int(params, "max_connections", 40) or 40,
        drop_pending=_bool(params, "drop_pending_updates"),
    )
    return True


async def delete_webhook(sim: TelegramSimulator, params: dict[str, Any]) -> Any:
    sim.delete_webhook(drop_pending=_bool(params, "drop_pending_updates"))
    return True


async def get_webhook_info(sim: TelegramSimulator, params: dict[str, Any]) -> Any:
    info = sim.webhook
    result: dict[str, Any] = {
        "url": info.url,
        "has_custom_certificate": False,
        "pending_update_count": sim.pending_update_count,
    }
    if info.url:
        result["max_connections"] = info.max_connections
        if info.allowed_updates is not None:
            result["allowed_updates"] = list(info.allowed_updates)
    return result


async def get_updates(sim: TelegramSimulator, params: dict[str, Any]) -> Any:
    if sim.webhook.url:
        raise TelegramApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = _int(params, "offset")
    limit = min(max(_int(params, "limit", 100) or 100, 1), 100)
    timeout = min(float(_int(params, "timeout", 0) or 0), sim.config.max_poll_timeout)
    deadline = time.monotonic() + timeout
    while True:
        batch = sim.take_updates(offset, limit)
        if batch or time.monotonic() >= deadline or sim.closing:
            return batch
        # Polling (not an asyncio.Event) because updates are injected from other threads.
        await asyncio.sleep(_POLL_INTERVAL)


async def _true(sim: TelegramSimulator, params: dict[str, Any]) -> Any:
    return True


async def _no_commands(sim: TelegramSimulator, params: dict[str, Any]) -> Any:
    return []


HANDLERS: dict[str, Handler] = {
    "getme": get_me,
    "sendmessage": send_message,
    "answercallbackquery": answer_callback_query,
    "sendchataction": send_chat_action,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "getupdates": get_updates,
    # Harmless bot-setup calls a bot may make at start; accepted so they do not 404.
    "setmycommands": _true,
    "deletemycommands": _true,
    "getmycommands": _no_commands,
}


def build_app(sim: TelegramSimulator) -> Starlette:
    """The ASGI app: ``/bot<token>/<method>`` plus ``/_sim/*`` control routes."""

    async def bot_api(request: Request) -> JSONResponse:
        # Method names are case-insensitive in the Bot API.
        method = request.path_params["method"].lower()
        if request.path_params["token"] != sim.config.token:
            error = TelegramApiError(401, "Unauthorized")
            return JSONResponse(error.payload(), status_code=error.status)
        params: dict[str, Any] = {}
        try:
            params = await _read_params(request)
            handler = HANDLERS.get(method)
            if handler is None:
                raise TelegramApiError(404, "Not Found")
            sim.check_injected(method, chat_key(params.get("chat_id")))
            result = await handler(sim, params)
        except TelegramApiError as error:
            sim.record_call(method, params, error.status)
            return JSONResponse(error.payload(), status_code=error.status)
        sim.record_call(method, params, 200)
        return JSONResponse({"ok": True, "result": result})

    async def control_updates(request: Request) -> JSONResponse:
        body = await request.json()
        if not isinstance(body, dict):
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        if "text" in body and "message" not in body:
            # Shorthand for manual use: {"text": "hi", "user_id": 42}.
            body = text_update(str(body["text"]), user_id=int(body.get("user_id", DEFAULT_USER_ID)))
        delivery = await sim.deliver(body)
        if delivery is None:
            return JSONResponse({"delivered": "queue"})
        return JSONResponse(
            {"delivered": "webhook", "status": delivery.status_code, "attempts": delivery.attempts}
        )

    async def control_sent(request: Request) -> JSONResponse:
        return JSONResponse([asdict(m) for m in sim.sent])

    async def control_fail(request: Request) -> JSONResponse:
        body = await request.json()
        allowed = {"count", "status", "retry_after", "description", "chat_id", "methods"}
        if not isinstance(body, dict) or not set(body) <= allowed:
            return JSONResponse({"error": f"keys must be among {sorted(allowed)}"}, 400)
        sim.fail_next(**body)
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/bot{token}/{method}", bot_api, methods=["GET", "POST"]),
            Route("/_sim/updates", control_updates, methods=["POST"]),
            Route("/_sim/sent", control_sent, methods=["GET"]),
            Route("/_sim/fail", control_fail, methods=["POST"]),
        ]
    )
