"""Open web chat streams: a cap per address, and wake-ups instead of polling.

Each open ``/webchat/stream`` waits on an event of its own. It is set when the sender's
outbox gets a row: in this process right after the commit (bot/outbox/web_signal.py), from
other processes through PostgreSQL ``LISTEN``/``NOTIFY`` or Redis pub/sub. Only on SQLite
without Redis does a stream still look at the database every ``poll_seconds`` (another
process, such as the CLI, may have written). While the listener connection is down, streams
poll too; when it is back, every stream looks once, so nothing is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.engine import make_url

from bot.outbox import web_signal
from bot.settings import Settings

if TYPE_CHECKING:
    # asyncpg and redis-py load only where this process listens through them.
    from redis.asyncio import Redis

log = logging.getLogger(__name__)
Mode = Literal["postgresql", "redis", "poll"]
_RETRY_SECONDS = 2.0
_CHECK_SECONDS = 30.0
_CONCURRENT_LOOKS = 4  # below SQLite's pool of 5; PostgreSQL's pool (10) allows 8


class StreamHub:
    """Counts streams per address and wakes the ones whose sender got a message."""

    def __init__(self, *, mode: Mode, max_per_ip: int, poll_seconds: float,
                 database_url: str | None = None, redis_url: str | None = None) -> None:
        self.mode: Mode = mode
        self.max_per_ip = max_per_ip
        self.poll_seconds = poll_seconds
        self._database_url = database_url
        self._redis_url = redis_url
        self._open: dict[str, int] = defaultdict(int)
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._listening = False
        # Streams take turns for a database connection: a thousand waking at once must queue
        # here, not time out in the connection pool.
        self.looks = asyncio.Semaphore(8 if mode == "postgresql" else _CONCURRENT_LOOKS)
        self._task: asyncio.Task[None] | None = None
        self._publisher: Redis[bytes] | None = None

    # -- the cap ---------------------------------------------------------------------------

    def admit(self, ip: str) -> bool:
        """Takes a stream slot for ``ip``; False when it has ``max_per_ip`` open already."""
        if self._open[ip] >= self.max_per_ip:
            return False
        self._open[ip] += 1
        return True

    def release(self, ip: str) -> None:
        self._open[ip] -= 1
        if self._open[ip] <= 0:
            del self._open[ip]

    @property
    def open_streams(self) -> int:
        return sum(self._open.values())

    # -- waiting ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def subscribe(self, sender: str) -> AsyncIterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters[sender].add(event)
        try:
            yield event
        finally:
            waiting = self._waiters.get(sender)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._waiters[sender]

    @property
    def polling(self) -> bool:
        """Streams must look at the database on their own (SQLite, or the listener is down)."""
        return self.mode == "poll" or not self._listening

    def wake(self, sender: str) -> None:
        for event in self._waiters.get(sender, ()):
            event.set()

    def wake_all(self) -> None:
        for events in self._waiters.values():
            for event in events:
                event.set()

    # -- listening -------------------------------------------------------------------------

    async def start(self) -> None:
        web_signal.add_listener(self._committed)
        if self.mode == "postgresql":
            self._task = asyncio.create_task(self._listen_postgres(), name="kefu-web-listen")
        elif self.mode == "redis":
            assert self._redis_url is not None
            from redis.asyncio import Redis

            self._publisher = Redis.from_url(self._redis_url, socket_timeout=2)
            self._task = asyncio.create_task(self._listen_redis(), name="kefu-web-listen")

    async def stop(self) -> None:
        web_signal.remove_listener(self._committed)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._publisher is not None:
            await self._publisher.aclose()  # type: ignore[attr-defined]
        self._listening = False

    def _committed(self, sender: str) -> None:
        self.wake(sender)
        if self._publisher is not None:
            asyncio.get_running_loop().create_task(self._publish(sender))

    async def _publish(self, sender: str) -> None:
        assert self._publisher is not None
        from redis.exceptions import RedisError

        try:
            await self._publisher.publish(web_signal.CHANNEL, sender)
        except (RedisError, OSError) as exc:
            log.warning("could not publish a web chat wake-up (%s)", exc.__class__.__name__)

    def _up(self) -> None:
        if not self._listening:
            log.info("web chat streams are woken through %s", self.mode)
        self._listening = True
        self.wake_all()  # whatever came while nobody listened

    async def _listen_postgres(self) -> None:
        assert self._database_url is not None
        import asyncpg  # type: ignore[import-untyped]

        dsn = make_url(self._database_url).set(drivername="postgresql")
        while True:
            connection: Any = None
            try:
                connection = await asyncpg.connect(dsn.render_as_string(hide_password=False))
                await connection.add_listener(
                    web_signal.CHANNEL, lambda _c, _pid, _ch, sender: self.wake(sender))
                closed = asyncio.Event()
                connection.add_termination_listener(functools.partial(_set, closed))
                self._up()
                while not closed.is_set():
                    try:
                        await asyncio.wait_for(closed.wait(), timeout=_CHECK_SECONDS)
                    except TimeoutError:
                        # A silent network can cut a connection without closing it.
                        await connection.fetchval("SELECT 1", timeout=5)
            except (OSError, TimeoutError, asyncpg.PostgresError,
                    asyncpg.InterfaceError) as exc:
                log.warning("web chat wake-ups from PostgreSQL unavailable (%s); streams poll",
                            exc.__class__.__name__)
            finally:
                self._listening = False
                if connection is not None and not connection.is_closed():
                    await connection.close()
            await asyncio.sleep(_RETRY_SECONDS)

    async def _listen_redis(self) -> None:
        assert self._redis_url is not None
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        while True:
            client: Redis[bytes] = Redis.from_url(self._redis_url, socket_timeout=None)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(web_signal.CHANNEL)
                    self._up()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.wake(bytes(message["data"]).decode())
            except (RedisError, OSError) as exc:
                log.warning("web chat wake-ups from Redis unavailable (%s); streams poll",
                            exc.__class__.__name__)
            finally:
                self._listening = False
                await client.aclose()  # type: ignore[attr-defined]
            await asyncio.sleep(_RETRY_SECONDS)


def _set(event: asyncio.Event, *_args: Any) -> None:
    event.set()


def build_hub(settings: Settings) -> StreamHub:
    """The hub ``webchat`` in config.yml asks for (``auto``: the best the deployment has)."""
    webchat = settings.webchat
    url = settings.effective_database_url
    redis_url = settings.effective_redis_url
    mode: Mode
    if webchat.notify == "auto":
        if make_url(url).get_backend_name() == "postgresql":
            mode = "postgresql"
        else:
            mode = "redis" if redis_url else "poll"
    else:
        mode = webchat.notify
    if mode == "redis" and not redis_url:
        mode = "poll"  # validated settings cannot name Redis without a URL; stay safe anyway
    return StreamHub(mode=mode, max_per_ip=webchat.max_streams_per_ip,
                     poll_seconds=webchat.poll_seconds, database_url=url, redis_url=redis_url)
