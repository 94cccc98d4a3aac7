"""Abuse limits and browser hardening: 429 with Retry-After, headers, CSP, CORS closed."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app import Kefu
from bot.features.security.http import CONTENT_SECURITY_POLICY
from bot.features.security.ratelimit import MemoryRateLimiter, RedisRateLimiter
from bot.server.asgi import create_app
from bot.settings import RateLimit, SecuritySettings, Settings

REDIS_URL = "redis://127.0.0.1:6379/15"


def _tight(settings: Settings, **limits: RateLimit) -> Settings:
    security = SecuritySettings(**{**settings.security.model_dump(), **limits})
    return settings.model_copy(update={"security": security})


@pytest.fixture
async def client(kefu: Kefu) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(kefu, close_on_shutdown=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://kefu.test") as c:
        yield c


async def test_chat_page_has_strict_csp_and_hardening_headers(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    # The page itself obeys the policy: no inline script or style.
    assert "<script>" not in page.text and "<style" not in page.text and "style=" not in page.text
    health = await client.get("/healthz")
    assert "content-security-policy" not in health.headers  # JSON needs none
    assert health.headers["x-content-type-options"] == "nosniff"


async def test_cors_is_closed_by_default(client: httpx.AsyncClient) -> None:
    preflight = await client.options("/webhooks/rest/webhook", headers={
        "origin": "https://evil.example", "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    simple = await client.post("/webhooks/rest/webhook", json={"sender": "a", "message": "hi"},
                               headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_allows_only_configured_origins(kefu: Kefu) -> None:
    security = SecuritySettings(cors_origins=["https://shop.example"])
    kefu.settings = kefu.settings.model_copy(update={"security": security})
    transport = httpx.ASGITransport(app=create_app(kefu, close_on_shutdown=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://kefu.test") as c:
        ok = await c.options("/webhooks/rest/webhook", headers={
            "origin": "https://shop.example", "access-control-request-method": "POST"})
        bad = await c.options("/webhooks/rest/webhook", headers={
            "origin": "https://evil.example", "access-control-request-method": "POST"})
    assert ok.headers["access-control-allow-origin"] == "https://shop.example"
    assert "access-control-allow-origin" not in bad.headers


async def test_per_sender_limit_answers_429_with_retry_after(kefu: Kefu) -> None:
    kefu.settings = _tight(kefu.settings, web_per_sender=RateLimit(requests=3, seconds=60))
    transport = httpx.ASGITransport(app=create_app(kefu, close_on_shutdown=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://kefu.test") as c:
        codes = [(await c.post("/webhooks/rest/webhook",
                               json={"sender": "spammer", "message": "hi"})).status_code
                 for _ in range(4)]
        refused = await c.post("/webhooks/rest/webhook", json={"sender": "spammer",
                                                               "message": "hi"})
        other = await c.post("/webhooks/rest/webhook", json={"sender": "calm", "message": "hi"})
    assert codes == [200, 200, 200, 429]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "retry after" in refused.json()["error"]
    assert other.status_code == 200


async def test_per_ip_limit_covers_web_chat_and_parse(kefu: Kefu) -> None:
    kefu.settings = _tight(kefu.settings, web_per_ip=RateLimit(requests=2, seconds=60),
                           parse_per_ip=RateLimit(requests=1, seconds=60))
    transport = httpx.ASGITransport(app=create_app(kefu, close_on_shutdown=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://kefu.test") as c:
        web = [(await c.post("/webhooks/rest/webhook",
                             json={"sender": f"s{n}", "message": "hi"})).status_code
               for n in range(3)]
        parse = [(await c.post("/model/parse", json={"text": "hi"})).status_code
                 for _ in range(2)]
        health = await c.get("/healthz")
    assert web == [200, 200, 429]
    assert parse[1] == 429
    assert health.status_code == 200  # not every path is limited


async def test_memory_limiter_window_resets() -> None:
    now = [0.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    results = [(await limiter.hit("k", limit=2, window=10)).allowed for _ in range(3)]
    assert results == [True, True, False]
    assert (await limiter.hit("k", limit=2, window=10)).retry_after == 10
    now[0] = 10.0
    assert (await limiter.hit("k", limit=2, window=10)).allowed


async def test_redis_limiter_is_shared_between_instances() -> None:
    prefix = f"kefu-test:{secrets.token_hex(4)}:"
    first, second = (RedisRateLimiter(REDIS_URL, prefix=prefix) for _ in range(2))
    try:
        assert (await first.hit("k", limit=2, window=30)).allowed
        assert (await second.hit("k", limit=2, window=30)).allowed
        refused = await first.hit("k", limit=2, window=30)
        assert not refused.allowed and 1 <= refused.retry_after <= 30
        await second.reset("k")
        assert (await first.hit("k", limit=2, window=30)).allowed
    finally:
        await first.aclose()
        await second.aclose()


async def test_redis_down_falls_back_to_counting_in_process() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0")
    try:
        results = [(await limiter.hit("k", limit=1, window=30)).allowed for _ in range(2)]
    finally:
        await limiter.aclose()
    assert results == [True, False]
