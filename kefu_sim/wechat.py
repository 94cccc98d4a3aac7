"""A local WeChat Official Account API: access tokens, customer-service and template sends."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from starlette.applications import Starlette

from kefu_sim.defaults import DEFAULT_SECRET as DEFAULT_SECRET
from kefu_sim.limits import Clock
from kefu_sim.wechat_api import WeChatApiError, build_app
from kefu_sim.wechat_push import InteractionKind, PushMode, WeChatPusher
from kefu_sim.wechat_xml import DEFAULT_ACCOUNT, DEFAULT_APPID

TokenFamily = Literal["token", "stable_token"]


@dataclass(slots=True)
class WeChatSimConfig:
    """One simulated Official Account and the platform rules it enforces.

    A user message opens ``window_seconds`` with ``window_quota`` customer-service messages;
    a follow, menu click or QR scan opens ``event_window_seconds`` with ``event_quota``.
    """

    appid: str = DEFAULT_APPID
    secret: str = DEFAULT_SECRET
    token_ttl: int = 7200
    token_overlap: float = 300.0
    """Seconds an access_token keeps working after a newer one was fetched."""
    daily_token_limit: int = 2000
    window_seconds: float = 48 * 3600
    window_quota: int = 5
    event_window_seconds: float = 60.0
    event_quota: int = 3
    template_ids: frozenset[str] = frozenset()
    """Known template ids; empty accepts any non-empty id."""
    response_delay: float = 0.0
    """Seconds a customer-service send waits after accepting before it answers."""
    clock: Clock = time.time


@dataclass(frozen=True, slots=True)
class CustomMessage:
    """A customer-service message the simulator accepted."""

    openid: str
    msgtype: str
    payload: dict[str, Any]
    at: float

    @property
    def text(self) -> str | None:
        content = self.payload.get("text", {}).get("content") if self.msgtype == "text" else None
        return str(content) if content is not None else None


@dataclass(frozen=True, slots=True)
class TemplateMessage:
    """A template message the simulator accepted."""

    openid: str
    template_id: str
    data: dict[str, Any]
    url: str | None
    msgid: int
    at: float


@dataclass(slots=True)
class _Token:
    value: str
    family: TokenFamily
    expires_at: float
    superseded_at: float | None = None


@dataclass(slots=True)
class _Window:
    ends_at: float
    quota_left: int


@dataclass(slots=True)
class _Failure:
    remaining: int
    errcode: int | None
    errmsg: str | None
    http_status: int | None
    endpoints: frozenset[str] | None


@dataclass(slots=True)
class _Records:
    sent: list[CustomMessage] = field(default_factory=list)
    templates: list[TemplateMessage] = field(default_factory=list)


class WeChatSimulator:
    """The WeChat API for one account; ``.app`` is the ASGI app, ``.pusher()`` the push side.

    Thread-safe, so the app can run in a server thread while a test pushes and inspects.
    Serve it and point wechatpy at ``f"{url}/cgi-bin/"``.
    """

    def __init__(self, config: WeChatSimConfig | None = None) -> None:
        self.config = config or WeChatSimConfig()
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self._fetches: dict[int, int] = {}
        self._windows: dict[str, _Window] = {}
        self._unsubscribed: set[str] = set()
        self._failures: list[_Failure] = []
        self._records = _Records()
        self._next_msgid = 400_000_000 + secrets.randbelow(100_000_000)
        # Keyword arguments of pusher() (url, token, ...) for the /_sim/push control route.
        self.push_defaults: dict[str, Any] = {}
        self.closing = False
        self.app: Starlette = build_app(self)

    # --- what tests inject ------------------------------------------------------------

    def pusher(
        self,
        url: str,
        *,
        token: str,
        encoding_aes_key: str | None = None,
        mode: PushMode = "plain",
        account: str = DEFAULT_ACCOUNT,
        timeout: float = 5.0,
        attempts: int = 3,
        client: httpx.AsyncClient | None = None,
    ) -> WeChatPusher:
        """A pusher for this account whose pushes open the customer-service window here."""
        return WeChatPusher(
            url,
            token=token,
            appid=self.config.appid,
            encoding_aes_key=encoding_aes_key,
            mode=mode,
            account=account,
            timeout=timeout,
            attempts=attempts,
            client=client,
            on_interaction=self.record_interaction,
            clock=self.config.clock,
        )

    def record_interaction(self, openid: str, kind: InteractionKind) -> None:
        """Open (or keep) the customer-service window for a user, as WeChat does.

        The grant that ends later wins: a menu click inside a 48-hour window does not
        shrink it to one minute, and a new message restores the full quota.
        """
        now = self.config.clock()
        with self._lock:
            if kind == "unsubscribe":
                self._unsubscribed.add(openid)
                self._windows.pop(openid, None)
                return
            self._unsubscribed.discard(openid)
            if kind == "message":
                grant = _Window(now + self.config.window_seconds, self.config.window_quota)
            else:
                grant = _Window(now + self.config.event_window_seconds, self.config.event_quota)
            current = self._windows.get(openid)
            if current is None or current.ends_at <= now or grant.ends_at >= current.ends_at:
                self._windows[openid] = grant

    def fail_next(
        self,
        count: int = 1,
        *,
        errcode: int | None = None,
        errmsg: str | None = None,
        http_status: int | None = None,
        endpoints: Collection[str] | None = None,
    ) -> None:
        """Answer the next ``count`` matching calls with ``errcode`` or an HTTP ``http_status``.

        ``endpoints`` are paths below /cgi-bin/ ("token", "message/custom/send", ...);
        by default every endpoint matches.
        """
        if (errcode is None) == (http_status is None):
            raise ValueError("fail_next needs exactly one of errcode or http_status")
        wanted = frozenset(endpoints) if endpoints is not None else None
        with self._lock:
            self._failures.append(_Failure(count, errcode, errmsg, http_status, wanted))

    def expire_tokens(self) -> None:
        """Make every issued access_token expired now (42001 on next use)."""
        now = self.config.clock()
        with self._lock:
            for token in self._tokens.values():
                token.expires_at = min(token.expires_at, now)

    # --- what tests inspect -----------------------------------------------------------

    @property
    def sent(self) -> list[CustomMessage]:
        with self._lock:
            return list(self._records.sent)

    def sent_to(self, openid: str) -> list[CustomMessage]:
        return [m for m in self.sent if m.openid == openid]

    @property
    def templates(self) -> list[TemplateMessage]:
        with self._lock:
            return list(self._records.templates)

    @property
    def token_fetches(self) -> int:
        """access_token fetches so far (both endpoints), as counted against the daily quota."""
        with self._lock:
            return sum(self._fetches.values())

    def quota_left(self, openid: str) -> int:
        """Customer-service messages still allowed for this user now (0 outside a window)."""
        now = self.config.clock()
        with self._lock:
            window = self._windows.get(openid)
            return window.quota_left if window is not None and window.ends_at > now else 0

    # --- used by the API routes (wechat_api) ------------------------------------------

    def check_injected(self, endpoint: str) -> _Failure | None:
        """The first matching injected failure, with one use consumed, or None."""
        with self._lock:
            for failure in self._failures:
                matches = failure.endpoints is None or endpoint in failure.endpoints
                if failure.remaining > 0 and matches:
                    failure.remaining -= 1
                    self._failures = [f for f in self._failures if f.remaining > 0]
                    return failure
        return None

    def issue_token(
        self, appid: str, secret: str, *, family: TokenFamily, force_refresh: bool = True
    ) -> tuple[str, int]:
        """Check credentials and hand out (token, expires_in) from the given family.

        A fresh token supersedes the older ones of its family, which keep working for
        ``token_overlap`` seconds. The stable family reuses its current token unless forced.
        """
        if appid != self.config.appid:
            raise WeChatApiError(40013)
        if secret != self.config.secret:
            raise WeChatApiError(40125)
        now = self.config.clock()
        with self._lock:
            current = [
                t
                for t in self._tokens.values()
                if t.family == family and t.superseded_at is None and t.expires_at > now
            ]
            if current and not force_refresh:
                return current[0].value, int(current[0].expires_at - now)
            day = int(now // 86400)
            if self._fetches.get(day, 0) >= self.config.daily_token_limit:
                raise WeChatApiError(45009)
            self._fetches[day] = self._fetches.get(day, 0) + 1
            for token in current:
                token.superseded_at = now
            value = secrets.token_urlsafe(96)
            self._tokens[value] = _Token(value, family, now + self.config.token_ttl)
            return value, self.config.token_ttl

    def check_token(self, value: str | None) -> None:
        """Raise 41001 / 40001 / 42001 unless ``value`` is a live access_token."""
        if not value:
            raise WeChatApiError(41001)
        now = self.config.clock()
        with self._lock:
            token = self._tokens.get(value)
            if token is None:
                raise WeChatApiError(40001)
            if token.expires_at <= now:
                raise WeChatApiError(42001)
            superseded = token.superseded_at
            if superseded is not None and now >= superseded + self.config.token_overlap:
                raise WeChatApiError(40001)

    def accept_custom(self, openid: str, msgtype: str, payload: dict[str, Any]) -> None:
        """Apply subscription, window and quota rules; record the message if allowed."""
        now = self.config.clock()
        with self._lock:
            if openid in self._unsubscribed:
                raise WeChatApiError(43004)
            window = self._windows.get(openid)
            if window is None or window.ends_at <= now:
                raise WeChatApiError(45015)
            if window.quota_left <= 0:
                raise WeChatApiError(45047)
            window.quota_left -= 1
            self._records.sent.append(CustomMessage(openid, msgtype, payload, now))

    def accept_template(
        self, openid: str, template_id: str, data: dict[str, Any], url: str | None
    ) -> int:
        known = self.config.template_ids
        if not template_id or (known and template_id not in known):
            raise WeChatApiError(40037)
        now = self.config.clock()
        with self._lock:
            if openid in self._unsubscribed:
                raise WeChatApiError(43004)
            self._next_msgid += 1
            message = TemplateMessage(openid, template_id, data, url, self._next_msgid, now)
            self._records.templates.append(message)
            return message.msgid
