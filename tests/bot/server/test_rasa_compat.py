"""What Rasa clients rely on: JSON bodies whatever the Content-Type, ``?token=`` on /model/parse,
and a limit sized for a service rather than a browser."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.app import Kefu, build_kefu
from bot.server.asgi import create_app
from bot.settings import RateLimit, Settings
from tests.conftest import FIXED_NOW
from tests.factories import bound_member

FORM = "application/x-www-form-urlencoded"  # what `curl -d` sends


def _client(kefu: Kefu) -> httpx.AsyncClient:
    app = create_app(kefu, close_on_shutdown=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kefu.test")


@pytest.fixture
async def client(kefu_nlu: Kefu) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(kefu_nlu) as c:
        yield c


@pytest.mark.parametrize("content_type", [FORM, "text/plain", None, "application/json"])
async def test_rest_webhook_reads_json_whatever_the_content_type(
    kefu_nlu: Kefu, client: httpx.AsyncClient, content_type: str | None
) -> None:
    await bound_member(kefu_nlu, sender="curl-user", points=2500)
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post(
        "/webhooks/rest/webhook", headers=headers,
        content=json.dumps({"sender": "curl-user", "message": "/points"}).encode())
    assert response.status_code == 200, response.text
    assert "2,500" in response.json()[0]["text"]


@pytest.mark.parametrize("content_type", [FORM, "text/plain"])
async def test_model_parse_reads_json_whatever_the_content_type(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post("/model/parse", headers={"content-type": content_type},
                                 content=json.dumps({"text": "绑定13800000001"}).encode())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intent"]["name"] == "bind_account"
    assert body["entities"][0]["value"] == "+8613800000001"


async def test_a_real_form_body_is_still_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/webhooks/rest/webhook", data={"sender": "a", "message": "hi"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid request"


def _with(settings: Settings, **updates: Any) -> Settings:
    security = settings.security.model_copy(update=updates.pop("security", {}))
    return settings.model_copy(update={"security": security, **updates})


@pytest.fixture
async def service(settings: Settings, embedded_nlu: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A server whose /model/parse is a service: token required, its own budget."""
    configured = _with(settings, parse_token=SecretStr("s3rvice-token"),
                       security={"parse_per_ip": RateLimit(requests=2),
                                 "parse_per_token": RateLimit(requests=50)})
    kefu = await build_kefu(configured, nlu=embedded_nlu, clock=lambda: FIXED_NOW)
    async with _client(kefu) as c:
        yield c
    await kefu.aclose()


async def test_parse_token_is_required_when_configured(service: httpx.AsyncClient) -> None:
    assert (await service.post("/model/parse", json={"text": "hi"})).status_code == 401
    wrong = await service.post("/model/parse?token=guess", json={"text": "hi"})
    assert wrong.status_code == 401
    ok = await service.post("/model/parse?token=s3rvice-token", json={"text": "我有多少积分"})
    assert ok.status_code == 200
    assert ok.json()["intent"]["name"] == "points_balance"


async def test_token_holders_get_the_service_budget(service: httpx.AsyncClient) -> None:
    # Far beyond the per-address limit of 2, within the service's 50.
    for _ in range(20):
        response = await service.post("/model/parse?token=s3rvice-token", json={"text": "hi"})
        assert response.status_code == 200
    # Callers without the token still meet the per-address limit: 401, 401, then 429.
    codes = [(await service.post("/model/parse", json={"text": "hi"})).status_code
             for _ in range(3)]
    assert codes == [401, 401, 429]
    # The service budget is finite too.
    codes = [(await service.post("/model/parse?token=s3rvice-token", json={"text": "hi"}))
             .status_code for _ in range(31)]
    assert codes == [200] * 30 + [429]


async def test_without_a_token_parse_stays_open_and_limited_per_address(
    settings: Settings, embedded_nlu: Any
) -> None:
    configured = _with(settings, security={"parse_per_ip": RateLimit(requests=3)})
    kefu = await build_kefu(configured, nlu=embedded_nlu, clock=lambda: FIXED_NOW)
    async with _client(kefu) as c:
        codes = [(await c.post("/model/parse", json={"text": "hi"})).status_code
                 for _ in range(4)]
        # The web chat's own limits are untouched by the service budget.
        assert configured.security.web_per_ip == settings.security.web_per_ip
    await kefu.aclose()
    assert codes == [200, 200, 200, 429]
