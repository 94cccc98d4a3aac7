"""The database goes away under live webhooks: PostgreSQL behind a fault-injecting proxy
(refusing, then holding connections), SQLite with a full disk. Every push is answered in
the platform's window, stored once and answered once when the database is back."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from bot.app import build_kefu
from bot.core.storage.models import Message, OutboxMessage
from bot.server.asgi import create_app
from bot.settings import ServerSettings, Settings
from kefu_sim import (
    TelegramSimulator,
    WeChatSimulator,
    text_update,
)
from tests.bot.channels.conftest import (
    TG_SECRET,
    TG_TOKEN,
    TelegramRig,
    WeChatRig,
    telegram_sim,  # noqa: F401 - fixture
    wait_for,
    wechat_rig_for,
    wechat_sim,  # noqa: F401 - fixture
)
from tests.conftest import Database
from tests.faultproxy import FaultProxy

REFUSED_SECONDS = 15.0


@pytest.fixture
async def proxy(database: Database) -> AsyncIterator[FaultProxy]:
    if database.backend != "postgresql":
        pytest.skip("the proxy stands in front of PostgreSQL")
    url = make_url(database.url)
    fault = FaultProxy(url.host or "127.0.0.1", url.port or 5432)
    await fault.start()
    yield fault
    await fault.aclose()


def through(settings: Settings, proxy: FaultProxy) -> Settings:
    from bot.settings import DatabaseSettings

    url = make_url(settings.effective_database_url).set(host="127.0.0.1", port=proxy.port)
    rendered = url.render_as_string(hide_password=False)
    return settings.model_copy(update={
        "database_url": rendered,
        "database": DatabaseSettings(url=rendered, schema_name=settings.database.schema_name),
    })


@pytest.fixture
async def wechat_behind_proxy(settings: Settings, proxy: FaultProxy,
                              wechat_sim: tuple[WeChatSimulator, str]  # noqa: F811
                              ) -> AsyncIterator[WeChatRig]:
    async for rig in wechat_rig_for(through(settings, proxy), wechat_sim):
        yield rig


async def replies_match_outbox(rig: WeChatRig, openids: list[str]) -> bool:
    """Each follower received exactly their stored replies, in order, nothing twice."""
    async with rig.kefu.sessions() as session:
        rows = (await session.execute(select(OutboxMessage).where(
            OutboxMessage.recipient_id.in_(openids)).order_by(OutboxMessage.id))).scalars().all()
    for openid in openids:
        mine = [r for r in rows if r.recipient_id == openid]
        if not mine or any(r.status != "sent" for r in mine):
            return False
        expected = "\n\n".join(str(r.payload["text"]) for r in mine)
        received = "\n\n".join(m.text or "" for m in rig.sim.sent_to(openid))
        assert received in ("", expected) or expected.startswith(received), (openid, received)
        if received != expected:
            return False
    return True


async def test_wechat_pushes_while_postgresql_refuses_are_answered_then_replayed(
    wechat_behind_proxy: WeChatRig, proxy: FaultProxy
) -> None:
    rig = wechat_behind_proxy
    pusher = rig.pusher()
    followers = ["oT" + uuid.uuid4().hex[:26] for _ in range(10)]
    pushes = [(f, "/help") for f in followers] + [(followers[0], "/start"),
                                                    (followers[0], "/help")]
    await proxy.refuse()
    refused_at = time.monotonic()
    results = []
    for openid, text in pushes:  # spread over the outage
        started = time.monotonic()
        result = await pusher.text(openid, text)
        results.append((result, time.monotonic() - started))
        await asyncio.sleep(REFUSED_SECONDS / len(pushes) / 2)
    assert [r.status_code for r, _ in results] == [200] * len(pushes)
    assert all(r.ok and r.attempts == 1 and r.body == "success" for r, _ in results)
    assert max(elapsed for _, elapsed in results) < 5.0
    assert rig.sim.sent == []  # nothing could be answered yet
    await asyncio.sleep(max(0.0, REFUSED_SECONDS - (time.monotonic() - refused_at)))
    await proxy.restore()

    async def all_answered() -> bool:
        return await replies_match_outbox(rig, followers)

    deadline = time.monotonic() + 40
    while not await all_answered():
        assert time.monotonic() < deadline, "not every push was answered after the outage"
        await asyncio.sleep(0.2)
    async with rig.kefu.sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(Message).where(
            Message.channel == "wechat", Message.direction == "in"))
    assert stored == len(pushes)  # every push stored, none twice
    # The follower with three pushes got their replies in order, merged into fewer sends.
    assert len(rig.sim.sent_to(followers[0])) < 3
    assert list((rig.kefu.settings.app.data_dir / "spool").glob("*.json")) == []


async def test_a_push_held_by_a_partition_is_answered_in_time_and_once(
    wechat_behind_proxy: WeChatRig, proxy: FaultProxy
) -> None:
    rig = wechat_behind_proxy
    openid = "oT" + uuid.uuid4().hex[:26]
    proxy.hold()
    started = time.monotonic()
    result = await rig.pusher().text(openid, "/help")
    assert result.ok and result.attempts == 1 and result.body == "success"
    assert time.monotonic() - started < 5.0
    spool = rig.kefu.settings.app.data_dir / "spool"
    assert len(list(spool.glob("*.json"))) == 1  # kept durably before WeChat heard success
    await asyncio.sleep(12)  # past the connect timeout: the held turn fails after success
    await proxy.restore()
    deadline = time.monotonic() + 40
    while not await replies_match_outbox(rig, [openid]):
        assert time.monotonic() < deadline, "the held push was never answered"
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)
    assert len(rig.sim.sent_to(openid)) == 1
    assert list(spool.glob("*.json")) == []


# --- SQLite with a full disk ----------------------------------------------------------


class DiskFull:
    """Fails every write on an engine as SQLite does when its disk is full."""

    def __init__(self) -> None:
        self.full = False

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.full and statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            import sqlite3

            raise sqlite3.OperationalError("database or disk is full")


@pytest.fixture
def sqlite_only(database: Database) -> Database:
    if database.backend != "sqlite":
        pytest.skip("a full disk under the embedded database")
    return database


@pytest.fixture
def telegram_sim_fresh(telegram_sim: tuple[TelegramSimulator, str]  # noqa: F811
                       ) -> tuple[TelegramSimulator, str]:
    telegram_sim[0].reset_records()
    return telegram_sim


@pytest.fixture
async def telegram_rig_sqlite(sqlite_only: Database, settings: Settings,
                              telegram_sim_fresh: tuple[TelegramSimulator, str]
                              ) -> AsyncIterator[TelegramRig]:
    sim, url = telegram_sim_fresh
    configured = settings.model_copy(update={
        "telegram_bot_token": SecretStr(TG_TOKEN),
        "telegram_webhook_secret": SecretStr(TG_SECRET),
        "telegram_api_base_url": url,
        "server": ServerSettings(public_url="https://kefu.example.com"),
    })
    kefu = await build_kefu(configured)
    app = create_app(kefu)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kefu.test") as client:
        yield TelegramRig(sim, client, kefu)


async def test_telegram_updates_on_a_full_sqlite_disk_are_kept_then_answered(
    telegram_rig_sqlite: TelegramRig
) -> None:
    rig = telegram_rig_sqlite
    disk = DiskFull()
    event.listen(rig.kefu.engine.sync_engine, "before_cursor_execute", disk)
    disk.full = True
    users = list(range(7001, 7009))
    for user in users:
        started = time.monotonic()
        response = await rig.push(text_update("/help", user_id=user))
        assert response.status_code == 200
        assert time.monotonic() - started < 5.0
    assert rig.sim.sent == []
    disk.full = False
    await wait_for(lambda: all(len(rig.sim.sent_to(u)) == 1 for u in users), within=30)
    await asyncio.sleep(0.5)
    assert all(len(rig.sim.sent_to(u)) == 1 for u in users)
    async with rig.kefu.sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(Message).where(
            Message.channel == "telegram", Message.direction == "in"))
    assert stored == len(users)


# --- the web chat ---------------------------------------------------------------------


@pytest.fixture
async def web_behind_proxy(settings: Settings, proxy: FaultProxy
                           ) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    kefu = await build_kefu(through(settings, proxy))
    app = create_app(kefu, background=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kefu.test") as client:
        yield client, kefu


async def test_web_chat_in_an_outage_gets_503_and_its_resend_is_one_message(
    web_behind_proxy: tuple[httpx.AsyncClient, Any], proxy: FaultProxy,
    caplog: pytest.LogCaptureFixture
) -> None:
    client, kefu = web_behind_proxy
    body = {"sender": "web-outage", "message": "/help", "message_id": "c-1"}
    await proxy.refuse()
    failed = await client.post("/webhooks/rest/webhook", json=body)
    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "5"
    lines = [r for r in caplog.records if "http.database_unavailable" in r.getMessage()]
    assert len(lines) == 1
    await proxy.restore()
    first = await client.post("/webhooks/rest/webhook", json=body)
    again = await client.post("/webhooks/rest/webhook", json=body)  # the answer was lost
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() != []
    # Another sender naming the same client id is a message of their own.
    other = await client.post("/webhooks/rest/webhook", json={**body, "sender": "web-other"})
    assert other.status_code == 200
    async with kefu.sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(Message).where(
            Message.channel == "web", Message.direction == "in"))
    assert stored == 2
