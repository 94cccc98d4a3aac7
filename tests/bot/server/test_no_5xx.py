"""No request gets a 5xx: every webhook fuzzed with hypothesis through the real app, on SQLite
and PostgreSQL (where column lengths, NUL characters and encodings are enforced).

Bodies are of three kinds: shaped like the real thing with hostile values (huge and negative
ids, long strings, control characters, lone surrogates), arbitrary JSON, and the bodies that
broke the Telegram webhook before (a 5,000-digit integer, 100,000 nested brackets).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.app import build_kefu
from bot.server.asgi import create_app
from bot.settings import RateLimit, SecuritySettings, ServerSettings, Settings
from kefu_sim import render_xml, signature

TG_SECRET, WX_TOKEN = "fuzz-secret", "fuzz-wx-token"
EXAMPLES = 60
FUZZ = hypothesis_settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                           suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                  HealthCheck.too_slow,
                                                  HealthCheck.data_too_large])
_OPEN = RateLimit(requests=1_000_000, seconds=60)

# Bodies every JSON route refuses with 400; the first two answered 500 on the Telegram
# webhook before (and broke the keep-alive connection).
REFUSED = [
    b'{"update_id": ' + b"9" * 5000 + b"}",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"sender": "a", "message": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    b'{"text": ' + b"1" * 4301 + b"}",
    b'{"update_id": 1e999}',
    b'{"update_id": NaN}',
    b"\xff\xfe{}",
]
KNOWN_BAD = [*REFUSED, b'{"sender": "a", "message": "\\u0000"}',
             b'{"sender": "\\ud800", "message": "\\ud800"}',
             b'{"sender": "a", "message": "hi", "message_id": "\\u0000"}']

texts = st.text(max_size=300) | st.sampled_from(["", " ", "/", "/help", "/unsubscribe all",
                                                 "\x00", "\ud800", "a" * 5000, "退订"])
ids = (st.integers(min_value=-(2**70), max_value=2**70) | st.integers()
       | st.sampled_from([0, -1, 2**63, -(2**63) - 1, 10**31]))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=5),
    max_leaves=30)


def _json(value: Any, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def any_json(shaped: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    encoded = st.builds(_json, shaped | json_values, st.booleans())
    return encoded | st.sampled_from(KNOWN_BAD) | st.binary(max_size=500)


rest_bodies = any_json(st.fixed_dictionaries(
    {"sender": texts, "message": texts},
    optional={"message_id": texts | ids, "language": texts, "extra": json_values}))
parse_bodies = any_json(st.fixed_dictionaries({"text": texts},
                                              optional={"timezone": texts | st.none()}))
users = st.fixed_dictionaries({"id": ids}, optional={"is_bot": st.booleans(),
                                                      "language_code": texts})
chats = st.fixed_dictionaries({"id": ids, "type": st.sampled_from(["private", "group", "x"])})
tg_messages = st.fixed_dictionaries(
    {"message_id": ids, "chat": chats},
    optional={"from": users, "text": texts, "caption": texts,
              "contact": st.fixed_dictionaries({"phone_number": texts},
                                               optional={"user_id": ids})})
telegram_bodies = any_json(st.fixed_dictionaries({"update_id": ids}, optional={
    "message": tg_messages,
    "callback_query": st.fixed_dictionaries({"id": texts, "from": users},
                                            optional={"message": tg_messages, "data": texts}),
    "my_chat_member": st.fixed_dictionaries({"chat": chats, "new_chat_member": json_values}),
}))
xml_text = st.text(max_size=200) | st.sampled_from(["", "9" * 300, "x" * 200])
wechat_fields = st.fixed_dictionaries(
    {"ToUserName": xml_text, "FromUserName": xml_text, "CreateTime": xml_text,
     "MsgType": st.sampled_from(["text", "event", "voice", "image", "zzz"]) | xml_text},
    optional={"Content": xml_text, "MsgId": xml_text, "Event": st.sampled_from(
        ["subscribe", "unsubscribe", "CLICK", "SCAN", "VIEW"]) | xml_text,
        "EventKey": xml_text, "Recognition": xml_text})


def _xml(fields: dict[str, str]) -> bytes:
    return render_xml(fields).encode("utf-8", "surrogatepass")


wechat_bodies = (st.builds(_xml, wechat_fields) | st.binary(max_size=500)
                 | st.sampled_from([b"<!DOCTYPE xml><xml></xml>", b"<xml>&#0;</xml>",
                                    b"<xml><a>&#xD800;</a></xml>", b"<xml>" * 10_000]))


@dataclass
class Rig:
    client: httpx.AsyncClient
    app: Any

    def assert_no_5xx(self, response: httpx.Response, body: bytes) -> None:
        assert response.status_code < 500, (response.status_code, body[:300], response.text)


@pytest.fixture
async def rig(settings: Settings, embedded_nlu: Any) -> AsyncIterator[Rig]:
    configured = settings.model_copy(update={
        "telegram_bot_token": SecretStr("123456:fuzz"),
        "telegram_webhook_secret": SecretStr(TG_SECRET),
        "telegram_api_base_url": "http://127.0.0.1:9",  # closed: sends fail fast
        "server": ServerSettings(public_url="https://kefu.example.com"),
        "wechat_token": SecretStr(WX_TOKEN), "wechat_app_id": "wxfuzz",
        "security": SecuritySettings(web_per_ip=_OPEN, web_per_sender=_OPEN,
                                     webhook_per_ip=_OPEN, parse_per_ip=_OPEN),
    })
    kefu = await build_kefu(configured, nlu=embedded_nlu)
    app = create_app(kefu, background=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kefu.test") as client:
        yield Rig(client, app)


def _content_type(body: bytes) -> str:
    # Rasa's clients send JSON with any type (curl -d: a form type); both must work.
    return "application/json" if len(body) % 2 else "application/x-www-form-urlencoded"


@FUZZ
@given(body=rest_bodies)
async def test_rest_webhook(rig: Rig, body: bytes) -> None:
    response = await rig.client.post("/webhooks/rest/webhook", content=body,
                                     headers={"content-type": _content_type(body)})
    rig.assert_no_5xx(response, body)


@FUZZ
@given(body=parse_bodies)
async def test_model_parse(rig: Rig, body: bytes) -> None:
    response = await rig.client.post("/model/parse", content=body,
                                     headers={"content-type": _content_type(body)})
    rig.assert_no_5xx(response, body)


@FUZZ
@given(body=telegram_bodies)
async def test_telegram_webhook(rig: Rig, body: bytes) -> None:
    response = await rig.client.post("/webhooks/telegram", content=body, headers={
        "X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "content-type": "application/json"})
    rig.assert_no_5xx(response, body)


@FUZZ
@given(body=wechat_bodies)
async def test_wechat_webhook(rig: Rig, body: bytes) -> None:
    ts, nonce = str(int(time.time())), secrets.token_hex(8)
    response = await rig.client.post(
        "/webhooks/wechat", content=body,
        params={"timestamp": ts, "nonce": nonce, "signature": signature(WX_TOKEN, ts, nonce)})
    rig.assert_no_5xx(response, body)


async def _stream_status(app: Any, query: str) -> int | None:
    """GET /webchat/stream at the ASGI level; the client leaves after 50 ms."""
    status: int | None = None
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(0.05)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": "/webchat/stream", "raw_path":
             b"/webchat/stream", "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"kefu.test")], "client": ("127.0.0.1", 1234),
             "server": ("kefu.test", 80)}
    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    return status


@hypothesis_settings(max_examples=25, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sender=texts)
async def test_web_chat_stream(rig: Rig, sender: str) -> None:
    query = urlencode({"sender": sender.encode("utf-8", "surrogatepass")})
    status = await _stream_status(rig.app, query)
    assert status is None or status < 500, (status, sender)


async def test_the_known_bad_bodies_get_400_and_the_connection_keeps_serving(rig: Rig) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    for body in REFUSED:
        for path in ("/webhooks/telegram", "/webhooks/rest/webhook", "/model/parse"):
            response = await rig.client.post(path, content=body, headers=headers)
            assert response.status_code == 400, (path, body[:60], response.text)
            assert "error" in response.json()
    healthy = await rig.client.post("/model/parse", json={"text": "我的积分"})
    assert healthy.status_code == 200


async def test_text_a_database_cannot_store_is_cleaned_or_refused(rig: Rig) -> None:
    nul = await rig.client.post("/webhooks/rest/webhook",
                                json={"sender": "nul-sender", "message": "/he\x00lp"})
    assert nul.status_code == 200 and nul.json()  # NUL removed: "/help" answered
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    update = {"update_id": 3, "message": {"message_id": 3, "text": "\x00/help",
                                          "chat": {"id": 77, "type": "private"},
                                          "from": {"id": 77}}}
    assert (await rig.client.post("/webhooks/telegram", json=update,
                                  headers=headers)).status_code == 200
    for body in (b'{"sender": "\\ud800", "message": "hi"}',
                 b'{"sender": "a", "message": "\\udc00"}',
                 b'{"sender": "a", "message": "hi", "message_id": "x\\u0000"}'):
        refused = await rig.client.post("/webhooks/rest/webhook", content=body)
        assert refused.status_code == 400, (body, refused.text)


async def test_ids_longer_than_their_columns_are_refused_before_the_database(rig: Rig) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    huge_chat = {"update_id": 1, "message": {"message_id": 1, "text": "hi",
                                             "chat": {"id": 10**30, "type": "private"},
                                             "from": {"id": 10**30}}}
    long_callback = {"update_id": 2, "callback_query": {"id": "c" * 127, "from": {"id": 5},
                                                        "data": "/help"}}
    for update in (huge_chat, long_callback):
        response = await rig.client.post("/webhooks/telegram", json=update, headers=headers)
        assert response.status_code == 400, response.text
    too_long = await rig.client.post("/webhooks/rest/webhook",
                                     json={"sender": "s" * 129, "message": "hi"})
    assert too_long.status_code == 400
    ts, nonce = str(int(time.time())), "n1"
    long_msg_id = _xml({"ToUserName": "gh", "FromUserName": "oLong", "CreateTime": ts,
                        "MsgType": "text", "Content": "/help", "MsgId": "9" * 300})
    params = {"timestamp": ts, "nonce": nonce, "signature": signature(WX_TOKEN, ts, nonce)}
    answered = await rig.client.post("/webhooks/wechat", content=long_msg_id, params=params)
    assert answered.status_code == 200  # a key too long for the column is hashed to fit
    again = await rig.client.post("/webhooks/wechat", content=long_msg_id, params=params)
    assert again.status_code == 200  # and still deduped: one message stored
