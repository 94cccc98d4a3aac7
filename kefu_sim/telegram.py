"""A local Telegram Bot API server with recorded sends and injectable failures."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.applications import Starlette

from kefu_sim.defaults import DEFAULT_TOKEN as DEFAULT_TOKEN
from kefu_sim.limits import Clock, SlidingWindow
from kefu_sim.telegram_api import TelegramApiError, build_app, chat_key
from kefu_sim.telegram_updates import (
    DEFAULT_BOT_ID,
    DEFAULT_BOT_USERNAME,
    WebhookDelivery,
    chat_ids_in,
    next_update_id,
    push_update,
)

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(slots=True)
class TelegramSimConfig:
    """Settings of one simulated bot; limits are None when off.

    ``global_limit`` messages per ``global_window`` seconds over all chats (Telegram: ~30/s),
    ``per_chat_limit`` per ``per_chat_window`` in each chat (~1/s private, 20/60 s groups).
    """

    token: str = DEFAULT_TOKEN
    bot_username: str = DEFAULT_BOT_USERNAME
    global_limit: int | None = None
    global_window: float = 1.0
    per_chat_limit: int | None = None
    per_chat_window: float = 1.0
    strict_chats: bool = False
    """Answer "chat not found" for chats that never wrote to the bot, as Telegram does."""
    max_poll_timeout: float = 50.0
    response_delay: float = 0.0
    """Seconds sendMessage waits after accepting a message before it answers: a slow
    platform, on which a send cut short may still have been delivered."""
    clock: Clock = time.time

    @property
    def bot_id(self) -> int:
        prefix = self.token.split(":", 1)[0]
        return int(prefix) if prefix.isdigit() else DEFAULT_BOT_ID


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message the simulator accepted from the bot."""

    message_id: int
    chat_id: int | str
    text: str
    reply_markup: dict[str, Any] | None
    parse_mode: str | None
    at: float


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Bot API request as received, with the HTTP status it was answered with."""

    method: str
    params: dict[str, Any]
    status: int
    at: float


@dataclass(frozen=True, slots=True)
class WebhookRegistration:
    """What the last setWebhook registered; ``url`` is empty when none is set."""

    url: str = ""
    secret_token: str | None = None
    allowed_updates: tuple[str, ...] | None = None
    max_connections: int = 40


@dataclass(slots=True)
class _Failure:
    remaining: int
    error: TelegramApiError
    chat_key: str | None
    methods: frozenset[str] | None

    def matches(self, method: str, chat_key: str | None) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return self.chat_key is None or self.chat_key == chat_key


@dataclass(slots=True)
class _Records:
    sent: list[SentMessage] = field(default_factory=list)
    calls: list[ApiCall] = field(default_factory=list)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)
    chat_actions: list[tuple[int | str, str]] = field(default_factory=list)


class TelegramSimulator:
    """A Bot API server for one bot token; ``.app`` is the ASGI app to serve.

    Thread-safe: the app may run in a server thread while a test injects updates and
    failures and reads the records from another.
    """

    def __init__(self, config: TelegramSimConfig | None = None) -> None:
        self.config = config or TelegramSimConfig()
        self._lock = threading.Lock()
        self._records = _Records()
        self._updates: deque[dict[str, Any]] = deque()
        self._failures: list[_Failure] = []
        self._blocked: set[str] = set()
        self._known_chats: set[str] = set()
        self._webhook = WebhookRegistration()
        self._next_message_id = 1
        self._global = self._window(self.config.global_limit, self.config.global_window)
        self._per_chat: dict[str, SlidingWindow] = {}
        # Set to end pending long polls at once, so a server shutdown does not wait for them.
        self.closing = False
        self.app: Starlette = build_app(self)

    @staticmethod
    def _window(limit: int | None, window: float) -> SlidingWindow | None:
        return SlidingWindow(limit, window) if limit is not None else None

    # --- what tests inject ------------------------------------------------------------

    def enqueue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (assigning an update_id if missing); returns it."""
        update = {"update_id": next_update_id(), **update}
        with self._lock:
            self._known_chats.update(chat_ids_in(update))
            self._updates.append(update)
        return update

    async def deliver(self, update: dict[str, Any], **push_options: Any) -> WebhookDelivery | None:
        """Deliver like Telegram: to the registered webhook if any, else queue for getUpdates.

        Returns the webhook delivery, or None when the update was queued.
        """
        webhook = self.webhook
        if not webhook.url:
            self.enqueue_update(update)
            return None
        with self._lock:
            self._known_chats.update(chat_ids_in(update))
        return await push_update(
            webhook.url, update, secret_token=webhook.secret_token, **push_options
        )

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | str | None = None,
        methods: Collection[str] | None = None,
    ) -> None:
        """Answer the next ``count`` matching calls with an error instead of serving them.

        ``chat_id`` limits the failure to calls for that chat; ``methods`` (Bot API names,
        any case) to those methods; by default every call matches. A 429 carries
        ``parameters.retry_after`` (default 5 s).
        """
        if status == 429:
            retry_after = 5 if retry_after is None else retry_after
            text = description or f"Too Many Requests: retry after {retry_after}"
        else:
            text = description or _DEFAULT_DESCRIPTIONS.get(status, "Internal Server Error")
        wanted = frozenset(m.lower() for m in methods) if methods is not None else None
        error = TelegramApiError(status, text, retry_after)
        failure = _Failure(count, error, chat_key(chat_id), wanted)
        with self._lock:
            self._failures.append(failure)

    def block_chat(self, chat_id: int | str) -> None:
        """From now on calls for this chat answer 403 "bot was blocked by the user"."""
        with self._lock:
            self._blocked.add(str(chat_id))

    def unblock_chat(self, chat_id: int | str) -> None:
        with self._lock:
            self._blocked.discard(str(chat_id))

    def reset_records(self) -> None:
        """Forget sent messages, calls, answers and actions (not config, queue or failures)."""
        with self._lock:
            self._records = _Records()

    # --- what tests inspect -----------------------------------------------------------

    @property
    def sent(self) -> list[SentMessage]:
        with self._lock:
            return list(self._records.sent)

    def sent_to(self, chat_id: int | str) -> list[SentMessage]:
        return [m for m in self.sent if str(m.chat_id) == str(chat_id)]

    @property
    def calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._records.calls)

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._records.callback_answers)

    @property
    def chat_actions(self) -> list[tuple[int | str, str]]:
        with self._lock:
            return list(self._records.chat_actions)

    @property
    def webhook(self) -> WebhookRegistration:
        with self._lock:
            return self._webhook

    @property
    def pending_update_count(self) -> int:
        with self._lock:
            return len(self._updates)

    # --- used by the API routes (telegram_api) ----------------------------------------

    def check_injected(self, method: str, chat: str | None) -> None:
        """Raise the first matching injected failure or block; consumes one use of it."""
        with self._lock:
            for failure in self._failures:
                if failure.remaining > 0 and failure.matches(method, chat):
                    failure.remaining -= 1
                    self._failures = [f for f in self._failures if f.remaining > 0]
                    raise failure.error
            if chat is not None and chat in self._blocked:
                raise TelegramApiError(403, _DEFAULT_DESCRIPTIONS[403])

    def record_call(self, method: str, params: dict[str, Any], status: int) -> None:
        with self._lock:
            self._records.calls.append(ApiCall(method, params, status, self.config.clock()))

    def accept_message(
        self,
        chat_id: int | str,
        text: str,
        reply_markup: dict[str, Any] | None,
        parse_mode: str | None,
    ) -> SentMessage:
        """Apply the chat and rate rules to a valid message and record it if accepted."""
        key = str(chat_id)
        now = self.config.clock()
        with self._lock:
            if self.config.strict_chats and key not in self._known_chats:
                raise TelegramApiError(400, "Bad Request: chat not found")
            per_chat = self._per_chat.get(key)
            if per_chat is None and self.config.per_chat_limit is not None:
                per_chat = SlidingWindow(self.config.per_chat_limit, self.config.per_chat_window)
                self._per_chat[key] = per_chat
            windows = [w for w in (self._global, per_chat) if w is not None]
            wait = max((w.retry_after(now) for w in windows), default=0)
            if wait:
                raise TelegramApiError(429, f"Too Many Requests: retry after {wait}", wait)
            for window in windows:
                window.record(now)
            message = SentMessage(
                self._next_message_id, chat_id, text, reply_markup, parse_mode, now
            )
            self._next_message_id += 1
            self._records.sent.append(message)
            return message

    def record_callback_answer(self, params: dict[str, Any]) -> None:
        with self._lock:
            self._records.callback_answers.append(params)

    def record_chat_action(self, chat_id: int | str, action: str) -> None:
        with self._lock:
            self._records.chat_actions.append((chat_id, action))

    def set_webhook(
        self,
        *,
        url: str,
        secret_token: str | None,
        allowed_updates: tuple[str, ...] | None,
        max_connections: int,
        drop_pending: bool,
    ) -> None:
        """Register (or with an empty url, remove) the webhook, as setWebhook does."""
        info = WebhookRegistration(
            url, secret_token if url else None, allowed_updates, max_connections
        )
        with self._lock:
            self._webhook = info
            if drop_pending:
                self._updates.clear()

    def delete_webhook(self, *, drop_pending: bool) -> None:
        with self._lock:
            self._webhook = replace(self._webhook, url="", secret_token=None)
            if drop_pending:
                self._updates.clear()

    def take_updates(self, offset: int | None, limit: int) -> list[dict[str, Any]]:
        """Confirm updates below ``offset`` (or keep the last -offset) and return a batch."""
        with self._lock:
            if offset is not None and offset < 0:
                kept = list(self._updates)[offset:]
                self._updates = deque(kept)
            elif offset is not None:
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()
            return list(self._updates)[:limit]
