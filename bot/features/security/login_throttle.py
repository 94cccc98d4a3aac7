"""Console sign-in throttling that an attacker cannot turn against agents.

OWASP's authentication guidance: lock nothing, slow down guessing. Only *wrong* passwords
count, each in three tallies: this account from this address, this account from anywhere,
anything from this address. Past a tally's free budget every further attempt waits twice as
long as the one before (``first_delay`` … ``max_delay``), counted from the last failure.

An address where the account signed in successfully in the last ``trusted_days`` is the
agent's own: only the first tally (their own mistakes from there) slows it down, so failures
sprayed from elsewhere, or by colleagues behind the same office address, never lock an agent
out. Successful sign-ins are never counted.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.features.security.ratelimit import Decision

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ThrottleRules:
    """Free failures per tally and the delays after them (seconds)."""

    per_pair: int = 5
    per_account: int = 5
    per_address: int = 20
    first_delay: float = 1.0
    max_delay: float = 900.0
    # A tally is forgotten this long after its last failure: long enough that waiting for a
    # reset is slower than waiting out the delays.
    forget_after: float = 86_400.0
    trusted_days: int = 30

    def delay(self, failures: int, free: int) -> float:
        """Seconds to wait after the last failure once ``failures`` were counted."""
        if failures < free:
            return 0.0
        return min(self.max_delay, self.first_delay * 2.0 ** min(failures - free, 40))


class ThrottleStore(Protocol):
    async def tally(self, key: str) -> tuple[int, float]:
        """(failures, time of the last one) for ``key``; (0, 0) when none are remembered."""
        ...

    async def fail(self, key: str, *, now: float, ttl: float) -> None: ...

    async def forget(self, key: str) -> None: ...

    async def mark(self, key: str, *, ttl: float) -> None: ...

    async def marked(self, key: str) -> bool: ...

    async def aclose(self) -> None: ...


class MemoryThrottleStore:
    """Tallies in this process (one worker, tests, no Redis)."""

    __slots__ = ("_clock", "_marks", "_tallies")
    _MAX_KEYS = 50_000

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._tallies: dict[str, tuple[int, float, float]] = {}  # count, last, expires
        self._marks: dict[str, float] = {}

    async def tally(self, key: str) -> tuple[int, float]:
        count, last, expires = self._tallies.get(key, (0, 0.0, 0.0))
        return (count, last) if expires > self._clock() else (0, 0.0)

    async def fail(self, key: str, *, now: float, ttl: float) -> None:
        count, _ = await self.tally(key)
        if len(self._tallies) >= self._MAX_KEYS:
            self._evict()
        self._tallies[key] = (count + 1, now, self._clock() + ttl)

    async def forget(self, key: str) -> None:
        self._tallies.pop(key, None)

    async def mark(self, key: str, *, ttl: float) -> None:
        if len(self._marks) >= self._MAX_KEYS:
            self._marks.clear()
        self._marks[key] = self._clock() + ttl

    async def marked(self, key: str) -> bool:
        return self._marks.get(key, 0.0) > self._clock()

    def _evict(self) -> None:
        # A flood of distinct addresses cannot grow memory without bound.
        now = self._clock()
        for key in [k for k, (_, _, e) in self._tallies.items() if e <= now]:
            del self._tallies[key]
        if len(self._tallies) >= self._MAX_KEYS:
            self._tallies.clear()

    async def aclose(self) -> None:
        self._tallies.clear()
        self._marks.clear()


class RedisThrottleStore:
    """Tallies in Redis, shared by every process; in memory while Redis is down."""

    __slots__ = ("_fallback", "_redis", "prefix")

    def __init__(self, url: str, *, prefix: str = "kefu:login:") -> None:
        self._redis: Redis[bytes] = Redis.from_url(url, socket_timeout=0.5,
                                                   socket_connect_timeout=0.5)
        self._fallback = MemoryThrottleStore()
        self.prefix = prefix

    async def tally(self, key: str) -> tuple[int, float]:
        try:
            found = await self._redis.hmget(self.prefix + key, ["n", "last"])
        except (RedisError, OSError) as exc:
            log.warning("Redis login throttle unavailable (%s)", exc.__class__.__name__)
            return await self._fallback.tally(key)
        count, last = found
        return (int(count), float(last)) if count is not None and last is not None else (0, 0.0)

    async def fail(self, key: str, *, now: float, ttl: float) -> None:
        name = self.prefix + key
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hincrby(name, "n", 1)
                pipe.hset(name, "last", repr(now))
                pipe.expire(name, math.ceil(ttl))
                await pipe.execute()
        except (RedisError, OSError):
            await self._fallback.fail(key, now=now, ttl=ttl)

    async def forget(self, key: str) -> None:
        try:
            await self._redis.delete(self.prefix + key)
        except (RedisError, OSError):
            log.warning("Redis unavailable: could not clear a login tally")
        await self._fallback.forget(key)

    async def mark(self, key: str, *, ttl: float) -> None:
        try:
            await self._redis.set(self.prefix + key, b"1", ex=math.ceil(ttl))
        except (RedisError, OSError):
            await self._fallback.mark(key, ttl=ttl)

    async def marked(self, key: str) -> bool:
        try:
            return bool(await self._redis.exists(self.prefix + key))
        except (RedisError, OSError):
            return await self._fallback.marked(key)

    async def aclose(self) -> None:
        await self._redis.aclose()  # type: ignore[attr-defined]  # types-redis predates it


class LoginThrottle:
    """Call :meth:`check` before verifying a password (refused: answer 429 with
    ``Retry-After`` and do not verify), then :meth:`failed` or :meth:`succeeded`."""

    __slots__ = ("_clock", "_store", "rules")

    def __init__(self, store: ThrottleStore, rules: ThrottleRules,
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self.rules = rules
        self._clock = clock

    @staticmethod
    def _keys(ip: str | None, account: str) -> tuple[str, str, str, str]:
        who = account.strip().lower()[:254]
        where = ip or "unknown"
        return (f"pair:{who}|{where}", f"account:{who}", f"ip:{where}", f"trust:{who}|{where}")

    async def check(self, *, ip: str | None, account: str) -> Decision:
        pair, acct, addr, trust = self._keys(ip, account)
        rules, now = self.rules, self._clock()
        tallies = [(pair, rules.per_pair)]
        if not await self._store.marked(trust):
            tallies += [(acct, rules.per_account), (addr, rules.per_address)]
        wait = 0.0
        for key, free in tallies:
            count, last = await self._store.tally(key)
            wait = max(wait, last + rules.delay(count, free) - now)
        if wait > 0:
            return Decision(False, max(1, math.ceil(wait)), 0)
        return Decision(True, 0, 0)

    async def failed(self, *, ip: str | None, account: str) -> None:
        rules, now = self.rules, self._clock()
        for key in self._keys(ip, account)[:3]:
            await self._store.fail(key, now=now, ttl=rules.forget_after + rules.max_delay)

    async def succeeded(self, *, ip: str | None, account: str) -> None:
        # The account-wide and address-wide tallies stay: a distributed guesser must not gain
        # fresh attempts each time the real agent signs in.
        pair, _, _, trust = self._keys(ip, account)
        await self._store.forget(pair)
        await self._store.mark(trust, ttl=self.rules.trusted_days * 86_400.0)

    async def aclose(self) -> None:
        await self._store.aclose()
