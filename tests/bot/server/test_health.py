"""/healthz answers at once whatever the database does; /readyz tells why it is not ready:
the database refusing or silent, a full disk, a spool that cannot be written, an outbox
no dispatcher drains."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from bot.app import Kefu, build_kefu
from bot.core.messages import OutboundMessage
from bot.core.storage.db import transaction
from bot.outbox import store as outbox
from bot.server.asgi import create_app
from bot.settings import DatabaseSettings, ReadinessSettings, Settings
from bot.spool.settings import SpoolSettings
from tests.faultproxy import FaultProxy


class UnusedSender:
    name = "telegram"

    async def send(self, message: OutboundMessage) -> str | None:
        raise AssertionError("no dispatcher runs in these tests")

    async def aclose(self) -> None:
        return None


async def serve(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Kefu]]:
    kefu = await build_kefu(settings)
    app = create_app(kefu, senders={"telegram": UnusedSender()}, background=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kefu.test") as client:
        yield client, kefu


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Kefu]]:
    async for pair in serve(settings):
        yield pair


async def test_ready_when_everything_answers(client: tuple[httpx.AsyncClient, Kefu]) -> None:
    response = await client[0].get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok" and body["problems"] == []
    assert body["spool"] == {"backend": "file", "pending": 0}


async def test_an_outbox_nobody_drains_is_not_ready(
    client: tuple[httpx.AsyncClient, Kefu]
) -> None:
    http, kefu = client
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    async with transaction(kefu.sessions) as session:
        await outbox.enqueue(session, OutboundMessage("telegram", "42", "hello"),
                             identity_id=None, now=long_ago)
        # Web rows wait for the customer's page: they never count.
        await outbox.enqueue(session, OutboundMessage("web", "w1", "hello"),
                             identity_id=None, now=long_ago)
    response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["problems"] == [
        "telegram outbox not draining: a due message waited 600 s untried"]
    assert response.json()["outbox_oldest_pending_seconds"] == {"telegram": 600}


def with_updates(settings: Settings, **sections: Any) -> Settings:
    return settings.model_copy(update=sections)


async def test_a_full_disk_and_an_unwritable_spool_are_named(
    settings: Settings, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    changed = with_updates(settings,
                           readiness=ReadinessSettings(min_free_mb=10**9),
                           spool=SpoolSettings(dir=blocker / "spool"))
    async for http, _kefu in serve(changed):
        response = await http.get("/readyz")
        assert response.status_code == 503
        problems = response.json()["problems"]
        assert any(p.startswith("spool directory") for p in problems), problems
        if settings.effective_database_url.startswith("sqlite"):
            assert any(p.startswith("database disk has") for p in problems), problems


@pytest.fixture
async def proxied(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, FaultProxy]]:
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("the proxy stands in front of PostgreSQL")
    proxy = FaultProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    rendered = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    changed = with_updates(settings, database_url=rendered, database=DatabaseSettings(
        url=rendered, schema_name=settings.database.schema_name))
    async for http, _kefu in serve(changed):
        yield http, proxy
    await proxy.aclose()


async def test_a_silent_database_is_reported_within_the_timeout(
    proxied: tuple[httpx.AsyncClient, FaultProxy]
) -> None:
    http, proxy = proxied
    assert (await http.get("/readyz")).status_code == 200
    proxy.hold()
    started = time.monotonic()
    healthz = await http.get("/healthz")
    assert healthz.status_code == 200 and healthz.json() == {"status": "ok"}
    assert time.monotonic() - started < 0.5  # liveness never waits for the database
    started = time.monotonic()
    response = await http.get("/readyz")
    assert time.monotonic() - started < 4.0
    assert response.status_code == 503
    assert response.json()["problems"] == ["database did not answer within 2 s"]
    await proxy.refuse()
    response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["problems"][0].startswith("database not answering (")
    await proxy.restore()
    assert (await http.get("/readyz")).status_code == 200
