"""A rate limit shared by every Kefu process: at most ``limit`` sends in any ``seconds``.

Each process already paces itself; this is the cap they obey together (Telegram's ~30
messages/s is per bot, not per process). In Redis when configured (one atomic script over a
sorted set of recent sends, timed by Redis's own clock), else in the database (``limit`` slots;
a send takes the oldest slot once it has left the window, under a row lock).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.storage.models_proactive import RateSlot
from bot.core.storage.upsert import insert_ignore_composite


class SharedLimit(Protocol):
    async def acquire(self) -> float:
        """Waits for a permit; returns when it was granted (Unix seconds, the limit's clock)."""
        ...

    async def aclose(self) -> None: ...


# KEYS[1] the sorted set; ARGV: limit, window (ms), a unique member. Returns {1, now in ms}
# when a permit was taken, else {0, milliseconds until the oldest send leaves the window}.
_SCRIPT = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], ms, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window * 2)
  return {1, ms}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(1, tonumber(oldest[2]) + window - ms)}
"""


class RedisLimit:
    __slots__ = ("_client", "_key", "_limit", "_script", "_window_ms")

    def __init__(self, url: str, *, key: str, limit: int, seconds: float) -> None:
        from redis.asyncio import Redis

        self._client: Any = Redis.from_url(url)
        self._key = key
        self._limit = limit
        self._window_ms = int(seconds * 1000)
        self._script = self._client.register_script(_SCRIPT)

    async def acquire(self) -> float:
        while True:
            granted, value = await self._script(keys=[self._key], args=[
                self._limit, self._window_ms, secrets.token_hex(8)])
            if int(granted):
                return int(value) / 1000
            await asyncio.sleep(int(value) / 1000)

    async def aclose(self) -> None:
        await self._client.aclose()


class DatabaseLimit:
    __slots__ = ("_key", "_limit", "_ready", "_seconds", "_sessions")

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, key: str, limit: int,
                 seconds: float) -> None:
        self._sessions = sessions
        self._key = key
        self._limit = limit
        self._seconds = seconds
        self._ready = False

    async def _prepare(self) -> None:
        async with self._sessions() as session, session.begin():
            for slot in range(self._limit):
                await insert_ignore_composite(session, RateSlot, {
                    "key": self._key, "slot": slot, "used_at": 0.0}, conflict=["key", "slot"])
        self._ready = True

    async def acquire(self) -> float:
        if not self._ready:
            await self._prepare()
        while True:
            try:
                granted, value = await self._try_once()
            except OperationalError:  # SQLite: another process wrote first; just try again
                granted, value = False, 0.005
            if granted:
                return value
            await asyncio.sleep(max(value, 0.002))

    async def _try_once(self) -> tuple[bool, float]:
        """(True, the grant time) when a slot was taken, else (False, seconds to wait)."""
        async with self._sessions() as session, session.begin():
            statement = (select(RateSlot).where(RateSlot.key == self._key)
                         .order_by(RateSlot.used_at, RateSlot.slot).limit(1))
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                statement = statement.with_for_update(skip_locked=True)
            oldest = (await session.execute(statement)).scalar_one_or_none()
            now = time.time()
            wait = 0.005
            if oldest is not None and now - oldest.used_at >= self._seconds:
                # Conditional, so two processes that read the same slot cannot both take it.
                taken = await session.execute(
                    update(RateSlot).where(RateSlot.key == self._key,
                                           RateSlot.slot == oldest.slot,
                                           RateSlot.used_at == oldest.used_at)
                    .values(used_at=now).execution_options(synchronize_session=False))
                if getattr(taken, "rowcount", 0) == 1:
                    return True, now
            elif oldest is not None:
                wait = oldest.used_at + self._seconds - now
        return False, wait

    async def aclose(self) -> None:
        return None
