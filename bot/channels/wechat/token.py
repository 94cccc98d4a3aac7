"""One access_token fetch at a time for every Kefu process of one WeChat account.

Fetching a token invalidates the previous one (after a short overlap), and wechatpy fetches
whenever it finds no token or WeChat refuses one (40001/42001). Sharing the storage is not
enough: the first replies after a start, or after an expiry, are sent by several threads in
several processes at once, and each would fetch. Here a fetch takes a lock in the shared
storage first (Redis, or the database's kv_store) and, once it holds it, looks again: when
another fetcher replaced the token meanwhile, that token is used and nothing is fetched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from redis import Redis
from redis.exceptions import LockError
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

log = logging.getLogger(__name__)
# Longer than a token fetch can take (the client's timeout is 5 s), so a crashed holder's
# lock lapses on its own.
LOCK_SECONDS = 30.0
# How long a fetcher waits for another one before the send is retried later instead.
WAIT_SECONDS = 15.0
_POLL_SECONDS = 0.05

Release = Callable[[], None]
_UNSET = object()


class LockingStorage(Protocol):
    """A wechatpy session storage that can also hold a lock shared by every process."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def try_lock(self, key: str, *, seconds: float) -> Release | None:
        """Takes the lock ``key`` for at most ``seconds``; ``None`` when another holds it."""
        ...


class RedisLockingStorage(RedisStorage):  # type: ignore[misc]
    """wechatpy's Redis storage with a Redis lock (SET NX PX, released only by its owner)."""

    def __init__(self, redis: Redis[bytes], prefix: str = "wechatpy") -> None:
        super().__init__(redis, prefix=prefix)

    def try_lock(self, key: str, *, seconds: float) -> Release | None:
        lock = self.redis.lock(self.key_name(key), timeout=seconds)
        if not lock.acquire(blocking=False):
            return None

        def release() -> None:
            try:
                lock.release()
            except LockError:
                # It lapsed (a fetch slower than ``seconds``): nothing left to give back.
                log.warning("the access_token lock lapsed before the fetch ended")

        return release


class SharedTokenMixin:
    """For a wechatpy ``WeChatClient`` subclass: call ``fetch_shared(real_fetch)`` from its
    ``fetch_access_token``. Storages without ``try_lock`` get a lock within this process."""

    appid: str
    session: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Threads of this process wait on this lock rather than all asking the storage.
        self._fetch_lock = threading.Lock()
        # Per thread: the token a fetch is to replace (see _replacing).
        self._local = threading.local()

    @property
    def _token_key(self) -> str:
        return f"{self.appid}_access_token"

    @property
    def access_token(self) -> Any:
        """wechatpy's own rule (a stored token, refreshed 60 s before this process's expiry),
        remembering which token it saw, so that a fetch can tell whether another fetcher
        has replaced it since."""
        token = self.session.get(self._token_key)
        expires_at = getattr(self, "expires_at", None)
        if token and (not expires_at or expires_at - time.time() > 60):
            return token
        self._replacing(token, self.fetch_access_token)  # type: ignore[attr-defined]
        return self.session.get(self._token_key)

    def _handle_result(self, res: Any, method: Any = None, url: Any = None,
                       result_processor: Any = None, **kwargs: Any) -> Any:
        # On 40001/42001 wechatpy fetches a new token: remember the one WeChat refused.
        params = kwargs.get("params")
        used = params.get("access_token") if isinstance(params, dict) else None
        handle = super()._handle_result  # type: ignore[misc]
        return self._replacing(used, lambda: handle(res, method, url, result_processor,
                                                    **kwargs))

    def _replacing(self, token: Any, call: Callable[[], Any]) -> Any:
        local = self._local
        outer = getattr(local, "stale", _UNSET)
        local.stale = token
        try:
            return call()
        finally:
            local.stale = outer

    def fetch_shared(self, fetch: Callable[[], Any]) -> Any:
        """Runs ``fetch`` unless another fetcher replaces the token first."""
        key = self._token_key
        # The token being replaced: the one the caller saw (or WeChat refused); else,
        # called directly, whatever is stored now.
        stale = getattr(self._local, "stale", _UNSET)
        if stale is _UNSET:
            stale = self.session.get(key)
        deadline = time.monotonic() + WAIT_SECONDS
        with self._fetch_lock:
            try_lock = getattr(self.session, "try_lock", None)
            while True:
                current = self.session.get(key)
                if current and current != stale:
                    return None  # replaced by another fetcher meanwhile: use theirs
                release = (try_lock(f"{key}:refresh", seconds=LOCK_SECONDS)
                           if try_lock is not None else _no_release)
                if release is not None:
                    break
                if time.monotonic() > deadline:
                    raise WeChatClientException(
                        None, "another process is fetching the access_token; retried later")
                time.sleep(_POLL_SECONDS)
            try:
                current = self.session.get(key)
                if current and current != stale:
                    return None
                log.info("fetching a WeChat access_token for every process")
                return fetch()
            finally:
                release()


def _no_release() -> None:
    return None
