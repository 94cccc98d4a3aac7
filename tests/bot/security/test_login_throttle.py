"""Sign-in throttling: guessing stays slow, agents are never locked out by someone else."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable

import pytest

from bot.features.security.login_throttle import (
    LoginThrottle,
    MemoryThrottleStore,
    RedisThrottleStore,
    ThrottleRules,
    ThrottleStore,
)

REDIS_URL = "redis://127.0.0.1:6379/15"
DAY = 86_400.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def make(request: pytest.FixtureRequest
               ) -> AsyncIterator[Callable[[Clock], LoginThrottle]]:
    stores: list[ThrottleStore] = []

    def build(clock: Clock) -> LoginThrottle:
        store: ThrottleStore
        if request.param == "redis":
            # A random prefix: the Redis server is shared; never flush it.
            store = RedisThrottleStore(REDIS_URL, prefix=f"test:{secrets.token_hex(6)}:")
        else:
            store = MemoryThrottleStore(clock)
        stores.append(store)
        return LoginThrottle(store, ThrottleRules(), clock)

    yield build
    for store in stores:
        await store.aclose()


async def guesses_in(throttle: LoginThrottle, clock: Clock, seconds: float,
                     where: Callable[[int], str]) -> int:
    """An attacker who waits exactly as long as told: how many passwords they try."""
    end, tried = clock.now + seconds, 0
    while clock.now < end:
        decision = await throttle.check(ip=where(tried), account="li@kefu.test")
        if not decision.allowed:
            clock.now += decision.retry_after
            continue
        await throttle.failed(ip=where(tried), account="li@kefu.test")
        tried += 1
    return tried


async def test_guessing_from_one_address_is_slow(make: Callable[[Clock], LoginThrottle]) -> None:
    clock = Clock()
    throttle = make(clock)
    for _ in range(5):
        assert (await throttle.check(ip="203.0.113.9", account="li@kefu.test")).allowed
        await throttle.failed(ip="203.0.113.9", account="li@kefu.test")
    sixth = await throttle.check(ip="203.0.113.9", account="LI@kefu.test ")
    assert not sixth.allowed and sixth.retry_after == 1
    # Each wait doubles up to 15 minutes: about a hundred guesses a day, not thousands.
    assert await guesses_in(throttle, clock, DAY, lambda _: "203.0.113.9") <= 110


async def test_guessing_from_many_addresses_is_as_slow(
        make: Callable[[Clock], LoginThrottle]) -> None:
    clock = Clock()
    throttle = make(clock)
    # A botnet: every guess from a new address. The account-wide tally slows them all.
    assert await guesses_in(throttle, clock, DAY, lambda n: f"198.51.{n // 250}.{n % 250}") <= 110


async def test_waiting_for_the_tally_to_reset_is_no_faster(
        make: Callable[[Clock], LoginThrottle]) -> None:
    clock = Clock()
    throttle = make(clock)
    for _ in range(5):
        await throttle.failed(ip="203.0.113.9", account="li@kefu.test")
    clock.now += 3600  # an hour later the guesser still pays for the failures before
    assert (await throttle.check(ip="203.0.113.9", account="li@kefu.test")).allowed
    await throttle.failed(ip="203.0.113.9", account="li@kefu.test")
    assert not (await throttle.check(ip="203.0.113.9", account="li@kefu.test")).allowed


async def test_failures_elsewhere_never_slow_the_agents_own_address(
        make: Callable[[Clock], LoginThrottle]) -> None:
    clock = Clock()
    throttle = make(clock)
    await throttle.succeeded(ip="192.0.2.10", account="li@kefu.test")  # the office, yesterday
    clock.now += DAY
    for n in range(200):
        await throttle.failed(ip=f"198.51.100.{n}", account="li@kefu.test")
    assert (await throttle.check(ip="192.0.2.10", account="li@kefu.test")).allowed
    # A new address is slowed down, never refused for good: it names the wait.
    elsewhere = await throttle.check(ip="192.0.2.99", account="li@kefu.test")
    assert not elsewhere.allowed and 0 < elsewhere.retry_after <= 900
    clock.now += elsewhere.retry_after
    assert (await throttle.check(ip="192.0.2.99", account="li@kefu.test")).allowed


async def test_successes_never_count_and_spraying_is_slowed(
        make: Callable[[Clock], LoginThrottle]) -> None:
    clock = Clock()
    throttle = make(clock)
    for n in range(100):  # a hundred agents behind one office address
        assert (await throttle.check(ip="192.0.2.10", account=f"a{n}@kefu.test")).allowed, n
        await throttle.succeeded(ip="192.0.2.10", account=f"a{n}@kefu.test")
    for n in range(20):  # one address trying one password on many accounts
        assert (await throttle.check(ip="203.0.113.7", account=f"u{n}@kefu.test")).allowed, n
        await throttle.failed(ip="203.0.113.7", account=f"u{n}@kefu.test")
    assert not (await throttle.check(ip="203.0.113.7", account="u99@kefu.test")).allowed
