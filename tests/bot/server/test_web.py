import json
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app import Kefu
from bot.server.asgi import create_app
from tests.factories import bound_member


@pytest.fixture
async def client(kefu: Kefu) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(kefu, close_on_shutdown=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kefu.test") as c:
        yield c


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_rest_webhook_answers_in_rasa_shape(kefu: Kefu, client: httpx.AsyncClient) -> None:
    await bound_member(kefu, sender="web-user", points=2500)
    response = await client.post("/webhooks/rest/webhook",
                                 json={"sender": "web-user", "message": "/points"})
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list) and body
    assert body[0]["recipient_id"] == "web-user"
    assert "2,500" in body[0]["text"]


async def test_buttons_are_listed_with_payloads(client: httpx.AsyncClient) -> None:
    response = await client.post("/webhooks/rest/webhook",
                                 json={"sender": "new", "message": "/start"})
    buttons = response.json()[0]["buttons"]
    assert {"title", "payload"} <= set(buttons[0])
    assert any(b["payload"] == "/points" for b in buttons)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (json.dumps({"message": "hi"}).encode(), "application/json"),
        (json.dumps({"sender": "", "message": "hi"}).encode(), "application/json"),
        (json.dumps({"sender": "a\nb", "message": "hi"}).encode(), "application/json"),
        (json.dumps({"sender": "a", "message": 5}).encode(), "application/json"),
        (json.dumps({"sender": "a", "message": "x" * 10_001}).encode(), "application/json"),
    ],
)
async def test_bad_requests_get_400_with_a_reason(
    client: httpx.AsyncClient, body: bytes, content_type: str
) -> None:
    response = await client.post("/webhooks/rest/webhook", content=body,
                                 headers={"content-type": content_type})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid request"
    assert response.json()["detail"]


async def test_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    payload = json.dumps({"sender": "a", "message": "x" * (2 * 1024 * 1024)})
    response = await client.post("/webhooks/rest/webhook", content=payload,
                                 headers={"content-type": "application/json"})
    assert response.status_code == 413


async def test_chat_page_is_utf8_html(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert "charset=utf-8" in response.headers["content-type"]
    assert '<meta charset="utf-8">' in response.text
    script = await client.get("/static/chat.js")
    assert "/webhooks/rest/webhook" in script.text
    assert "innerHTML" not in script.text.replace("never innerHTML", "")


async def test_metrics_count_messages_and_the_outbox(client: httpx.AsyncClient) -> None:
    def value(text: str, line_start: str) -> float:
        for line in text.splitlines():
            if line.startswith(line_start):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = value((await client.get("/metrics")).text, 'kefu_messages_in_total{channel="web"}')
    await client.post("/webhooks/rest/webhook", json={"sender": "m1", "message": "/help"})
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert value(response.text, 'kefu_messages_in_total{channel="web"}') == before + 1
    assert "kefu_turn_seconds_bucket" in response.text
