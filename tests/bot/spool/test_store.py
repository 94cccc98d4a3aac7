"""The spool's two stores: files on disk and a Redis hash (real Redis, own key prefix)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.messages import InboundMessage
from bot.delivery import build_spool, spool_redis_key
from bot.settings import DatabaseSettings, RedisSettings, Settings
from bot.spool.store import FileSpool, RedisSpool, Spool, SpooledPush, new_key
from tests.conftest import make_settings
from tests.kefu_process import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


def push(text: str) -> SpooledPush:
    inbound = InboundMessage(channel="wechat", sender_id="oFollower", text=text,
                             received_at=datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
                             message_id=f"msg-{text}", opens_window="message")
    return SpooledPush(new_key(inbound), inbound)


@pytest.fixture(params=["file", "redis"])
async def spool(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Spool]:
    if request.param == "file":
        store: Spool = FileSpool(tmp_path / "spool")
    else:
        store = RedisSpool(REDIS_URL, prefix=f"kefu-test:{secrets.token_hex(6)}:spool")
    yield store
    if isinstance(store, RedisSpool):
        for entry in await store.pending():
            await store.remove(entry.key)
        await store._redis.delete(store._aside)
    await store.aclose()


async def test_entries_come_back_in_arrival_order_until_removed(spool: Spool) -> None:
    first, second, third = push("one"), push("two"), push("three")
    for entry in (first, second, third):
        await spool.put(entry)
    pending = await spool.pending()
    assert [p.inbound for p in pending] == [first.inbound, second.inbound, third.inbound]
    await spool.remove(second.key)
    assert [p.inbound.text for p in await spool.pending()] == ["one", "three"]
    await spool.set_aside(SpooledPush(first.key, first.inbound, failures=5))
    assert [p.inbound.text for p in await spool.pending()] == ["three"]
    assert await spool.problem() is None


async def test_a_file_spool_sets_unreadable_entries_aside(tmp_path: Path) -> None:
    spool = FileSpool(tmp_path / "spool")
    await spool.put(push("ok"))
    (tmp_path / "spool" / "00000000000000000001-wechat-bad.json").write_text("{not json")
    assert [p.inbound.text for p in await spool.pending()] == ["ok"]
    assert [p.name for p in (tmp_path / "spool" / "failed").iterdir()] == [
        "00000000000000000001-wechat-bad.json"]


async def test_a_redis_spool_that_cannot_connect_says_so() -> None:
    spool = RedisSpool(f"redis://127.0.0.1:{free_port()}/0")
    problem = await spool.problem()
    assert problem is not None and problem.startswith("spool Redis not answering")
    await spool.aclose()


def test_each_database_has_its_own_redis_spool() -> None:
    """Deployments (or test schemas) sharing one Redis never replay each other's pushes."""
    def on(url: str, schema: str | None) -> Settings:
        return make_settings().model_copy(update={
            "database_url": url, "database": DatabaseSettings(url=url, schema_name=schema),
            "redis": RedisSettings(url=REDIS_URL)})

    pg = "postgresql+asyncpg://kefu:secret@db.example:5432/kefu"
    keys = {spool_redis_key(on(pg, "shop_a")), spool_redis_key(on(pg, "shop_b")),
            spool_redis_key(on(pg.replace("/kefu", "/other"), "shop_a")),
            spool_redis_key(on("sqlite+aiosqlite:///./kefu.db", None))}
    assert len(keys) == 4
    assert all(key.startswith("kefu:spool:") and "secret" not in key for key in keys)
    # The key does not depend on the password, so rotating it keeps the queue.
    assert spool_redis_key(on(pg, "shop_a")) == spool_redis_key(
        on(pg.replace("secret", "rotated"), "shop_a"))
    spool = build_spool(on(pg, "shop_a"))
    assert isinstance(spool, RedisSpool) and spool._hash == spool_redis_key(on(pg, "shop_a"))
