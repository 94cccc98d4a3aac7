"""/webchat/stream through a real server: a cap per address, and notified (not polling)
streams on PostgreSQL and with Redis; polling remains only on SQLite without Redis."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis
from sqlalchemy import event, insert

from bot.app import Kefu, build_kefu
from bot.core.storage.db import transaction
from bot.core.storage.models import OutboxMessage
from bot.outbox import web_signal
from bot.settings import RedisSettings, Settings, WebchatSettings
from tests.conftest import FIXED_NOW, Database

REDIS_URL = "redis://127.0.0.1:6379/15"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def with_webchat(settings: Settings, **values: Any) -> Settings:
    webchat = WebchatSettings(**{**settings.webchat.model_dump(), **values})
    return settings.model_copy(update={"webchat": webchat})


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[str, Kefu]]:
    from bot.server.asgi import create_app

    kefu = await build_kefu(settings, clock=lambda: FIXED_NOW)
    app = create_app(kefu, close_on_shutdown=False, background=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}", kefu
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        await kefu.aclose()


async def first_chunk(response: httpx.Response) -> str:
    return await anext(chunks(response))


def chunks(response: httpx.Response) -> AsyncIterator[str]:
    """One text iterator per response (httpx streams a body once)."""
    found: AsyncIterator[str] | None = getattr(response, "_kefu_chunks", None)
    if found is None:
        found = response.aiter_text()
        response._kefu_chunks = found  # type: ignore[attr-defined]
    return found


async def test_streams_per_address_are_capped(settings: Settings) -> None:
    async with serving(with_webchat(settings, max_streams_per_ip=2)) as (url, _kefu), \
            httpx.AsyncClient(base_url=url, timeout=10) as client:
        async with client.stream("GET", "/webchat/stream", params={"sender": "a"}) as one, \
                client.stream("GET", "/webchat/stream", params={"sender": "b"}) as two:
            assert one.status_code == two.status_code == 200
            assert (await first_chunk(one)).startswith("retry:")
            third = await client.get("/webchat/stream", params={"sender": "c"})
            assert third.status_code == 429 and third.headers["retry-after"] == "30"
            assert "at most 2" in third.json()["error"]
        # Closed streams give their slots back.
        for _ in range(50):
            async with client.stream("GET", "/webchat/stream", params={"sender": "d"}) as again:
                if again.status_code == 200:
                    break
            await asyncio.sleep(0.1)
        assert again.status_code == 200


def counting_outbox_reads(kefu: Kefu) -> Callable[[], int]:
    seen = {"n": 0}

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "outbox" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen["n"] += 1

    event.listen(kefu.engine.sync_engine, "before_cursor_execute", count)
    return lambda: seen["n"]


async def insert_web_row(kefu: Kefu, sender: str, text: str) -> None:
    """A row as another process would write it: a Core insert, no in-process wake-up."""
    async with transaction(kefu.sessions) as session:
        await session.execute(insert(OutboxMessage).values(
            channel="web", recipient_id=sender, purpose="agent", payload={"text": text},
            status="pending", attempts=0, next_attempt_at=FIXED_NOW, created_at=FIXED_NOW))


async def read_until(response: httpx.Response, needle: str, within: float) -> float:
    started = time.perf_counter()

    async def scan() -> None:
        async for chunk in chunks(response):
            if needle in chunk:
                return

    await asyncio.wait_for(scan(), timeout=within)
    return time.perf_counter() - started


async def notified_stream_delivers(settings: Settings, wake: Callable[[str], Any]) -> None:
    # Polling would take 60 s: a delivery within 10 s can only come from a wake-up.
    async with serving(with_webchat(settings, poll_seconds=60)) as (url, kefu), \
            httpx.AsyncClient(base_url=url, timeout=10) as client:
        reads = counting_outbox_reads(kefu)
        async with client.stream("GET", "/webchat/stream", params={"sender": "v1"}) as stream:
            assert (await first_chunk(stream)).startswith("retry:")
            await asyncio.sleep(0.5)  # the listener is connected by now
            await insert_web_row(kefu, "v1", "您好，我来处理")
            await wake("v1")
            assert await read_until(stream, "您好，我来处理", within=10) < 10
            before = reads()
            await asyncio.sleep(2.5)  # an idle notified stream leaves the database alone
            assert reads() == before


async def test_postgresql_streams_are_woken_by_notify(settings: Settings,
                                                      database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")

    async def notify(sender: str) -> None:
        import asyncpg  # type: ignore[import-untyped]

        connection = await asyncpg.connect(database.url.replace("+asyncpg", ""))
        try:
            await connection.execute("SELECT pg_notify($1, $2)", web_signal.CHANNEL, sender)
        finally:
            await connection.close()

    await notified_stream_delivers(settings, notify)


async def test_redis_wakes_streams_of_every_process(settings: Settings,
                                                    database: Database) -> None:
    if database.backend != "sqlite":
        pytest.skip("PostgreSQL uses LISTEN/NOTIFY")
    redis: Redis[bytes] = Redis.from_url(REDIS_URL)

    async def publish(sender: str) -> None:
        await redis.publish(web_signal.CHANNEL, sender)

    configured = settings.model_copy(update={"redis": RedisSettings(url=REDIS_URL)})
    try:
        await notified_stream_delivers(configured, publish)
    finally:
        await redis.aclose()  # type: ignore[attr-defined]


async def test_agent_replies_wake_the_stream_in_this_process(settings: Settings) -> None:
    """SQLite without Redis still delivers at once what this process wrote (and looks every
    poll_seconds for what others wrote)."""
    from bot.core.messages import OutboundMessage
    from bot.outbox import store as outbox

    async with serving(with_webchat(settings, poll_seconds=60)) as (url, kefu), \
            httpx.AsyncClient(base_url=url, timeout=10) as client, \
            client.stream("GET", "/webchat/stream", params={"sender": "v2"}) as stream:
        assert (await first_chunk(stream)).startswith("retry:")
        await asyncio.sleep(0.3)
        async with transaction(kefu.sessions) as session:
            await outbox.enqueue(session, OutboundMessage("web", "v2", "稍等，我查一下"),
                                 identity_id=None, now=FIXED_NOW, purpose="agent")
            assert web_signal.pending(session) == {"v2"}
        assert await read_until(stream, "稍等，我查一下", within=10) < 10
        # More than one look's worth at once: all of them arrive without another wake-up.
        async with transaction(kefu.sessions) as session:
            for n in range(25):
                await outbox.enqueue(session, OutboundMessage("web", "v2", f"第{n}条"),
                                     identity_id=None, now=FIXED_NOW, purpose="agent")
        assert await read_until(stream, "第24条", within=10) < 10
