"""A WeChat signed query is good for one message, and only while its timestamp is fresh.

In plain mode WeChat's signature covers the token, timestamp and nonce but not the body, so a
push URL seen once (in a proxy log, say) would sign any message forever. The guard refuses
timestamps more than ``window`` seconds from now and remembers every signed query for that
long with a digest of the message it carried: an exact repeat (WeChat's retry) passes, the
same query with any other message is refused. Memory is Redis when configured (shared by
every process), else the database's kv_store; if Redis fails, the database stands in.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import and_, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.wechat import WeChatRequestError
from bot.core.storage.db import transaction
from bot.core.storage.models import KeyValue
from bot.core.storage.outage import database_unavailable
from bot.core.storage.upsert import insert_if_absent

log = logging.getLogger(__name__)
KEY_PREFIX = "wechat-query:"
# Expired rows are swept at most this often (per process), not on every push.
_SWEEP_SECONDS = 60.0
# The replay check must leave most of WeChat's 5 s for the turn (or the spool).
DATABASE_SECONDS = 1.0


class ReplayGuard:
    """Admits each signed WeChat query once per message, within the timestamp window."""

    __slots__ = ("_clock", "_last_sweep", "_memory", "_redis", "_redis_prefix", "_sessions",
                 "_warned", "window")

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, window: int,
                 redis_url: str | None = None, redis_prefix: str = "kefu:wxq:",
                 clock: Callable[[], float] = time.time) -> None:
        self._sessions = sessions
        self.window = window
        self._redis: Redis[bytes] | None = (
            Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
            if redis_url else None)
        self._redis_prefix = redis_prefix
        self._clock = clock
        self._last_sweep = 0.0
        self._warned = False
        # Queries seen while the database could not answer: (digest, expiry) by key.
        self._memory: dict[str, tuple[str, float]] = {}

    async def admit(self, params: dict[str, str], *, digest: str) -> None:
        """Passes a fresh query the first time, and again with the same message digest.

        Raises:
            WeChatRequestError: 403 for a timestamp outside the window, or a query already
                used for another message.
        """
        now = self._clock()
        timestamp = params.get("timestamp", "")
        if not timestamp.isdigit() or len(timestamp) > 12:
            raise WeChatRequestError("timestamp is missing or not a number", 403)
        age = now - int(timestamp)
        if abs(age) > self.window:
            raise WeChatRequestError(
                f"timestamp is {int(age)} s from now, outside the {self.window} s window "
                "(a replayed push, or a clock that needs NTP)", 403)
        query = "\n".join((params.get("signature", ""), timestamp, params.get("nonce", "")))
        key = hashlib.sha256(query.encode()).hexdigest()
        # Remembered until the timestamp leaves the window; after that the age check refuses it.
        ttl = max(1, int(int(timestamp) + self.window - now) + 1)
        first = await self._remember(key, digest, ttl, now)
        if first != digest:
            raise WeChatRequestError("this signed query was already used for another message",
                                     403)

    async def _remember(self, key: str, digest: str, ttl: int, now: float) -> str:
        """Stores ``digest`` under ``key`` unless something is there; returns what is there."""
        if self._redis is not None:
            name = self._redis_prefix + key
            try:
                if await self._redis.set(name, digest, ex=ttl, nx=True):
                    return digest
                stored = await self._redis.get(name)
                if stored is not None:
                    return stored.decode()
            except (RedisError, OSError) as exc:
                if not self._warned:
                    log.warning("Redis unavailable for WeChat replay checks (%s); using the "
                                "database", exc.__class__.__name__)
                    self._warned = True
            else:
                self._warned = False
        try:
            return await asyncio.wait_for(
                self._remember_in_database(KEY_PREFIX + key, digest, ttl, now),
                timeout=DATABASE_SECONDS)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            # During a database outage the push must still be answered within WeChat's 5 s
            # (it is spooled and replayed later): this process remembers the query itself,
            # so a replay reaching it is still refused; the timestamp window still holds.
            return self._remember_in_memory(key, digest, ttl, now)

    def _remember_in_memory(self, key: str, digest: str, ttl: int, now: float) -> str:
        self._memory = {k: v for k, v in self._memory.items() if v[1] > now}
        stored = self._memory.setdefault(key, (digest, now + ttl))
        return stored[0]

    async def _remember_in_database(self, key: str, digest: str, ttl: int, now: float) -> str:
        moment = datetime.fromtimestamp(now, UTC)
        async with transaction(self._sessions) as session:
            if now - self._last_sweep >= _SWEEP_SECONDS:
                self._last_sweep = now
                await session.execute(delete(KeyValue).where(and_(
                    KeyValue.key.startswith(KEY_PREFIX, autoescape=True),
                    KeyValue.expires_at < moment)))
            if await insert_if_absent(
                    session, KeyValue, {"key": key, "value": digest,
                                        "expires_at": moment + timedelta(seconds=ttl)},
                    conflict=["key"]):
                return digest
            stored = await session.scalar(select(KeyValue.value).where(KeyValue.key == key))
        return stored if stored is not None else digest

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()  # type: ignore[attr-defined]  # types-redis predates it

