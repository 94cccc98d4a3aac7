"""Tests for nlu.rasa_client against a real HTTP server on 127.0.0.1 answering like Rasa."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from nlu.embedded import EmbeddedNlu
from nlu.rasa_client import RasaNlu, RasaResponseError, parse_from_rasa
from nlu.types import IntentScore, Parse
from tests.nlu.conftest import TODAY

RASA_BODY: dict[str, Any] = {
    "text": "绑定13800000001",
    "intent": {"name": "bind_account", "confidence": 0.91},
    "entities": [{"entity": "phone", "start": 2, "end": 13, "confidence_entity": 0.99,
                  "value": "13800000001", "extractor": "DIETClassifier"}],
    "intent_ranking": [{"name": "bind_account", "confidence": 0.91},
                       {"name": "profile_update", "confidence": 0.05}],
    "response_selector": {"all_retrieval_intents": []},
}


_ROUTES = {"/ok", "/secure", "/slow", "/fail", "/junk", "/shape", "/fallback"}


class _RasaHandler(BaseHTTPRequestHandler):
    """Routes by path prefix: /ok, /secure (needs ?token=s3cret), /slow, /fail, /junk, /shape."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append({"path": url.path, "query": parse_qs(url.query), "body": body})
        route = url.path.removesuffix("/model/parse")
        if not url.path.endswith("/model/parse") or route not in _ROUTES:
            self._send(404, b'{"error": "not found"}')
        elif route == "/secure" and parse_qs(url.query).get("token") != ["s3cret"]:
            self._send(401, b'{"message": "User is not authenticated."}')
        elif route == "/slow":
            time.sleep(1.0)
            self._send(200, json.dumps(RASA_BODY).encode())
        elif route == "/fail":
            self._send(500, b"Internal Server Error")
        elif route == "/junk":
            self._send(200, b"<html>not json</html>")
        elif route == "/shape":
            self._send(200, b'{"text": "x", "entities": []}')
        elif route == "/fallback":
            answer = dict(RASA_BODY, intent={"name": "nlu_fallback", "confidence": 0.3})
            self._send(200, json.dumps(answer).encode())
        else:
            self._send(200, json.dumps(dict(RASA_BODY, text=body["text"])).encode())

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture(scope="module")
def rasa_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RasaHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class RecordingBackend:
    """A fallback test double: answers ``greet`` and counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def parse(self, text: str, *, timezone: str = "Asia/Shanghai") -> Parse:
        self.calls += 1
        score = IntentScore("greet", 0.5)
        return Parse(text=text, intent=score, intent_ranking=(score,))


async def test_parses_rasa_answers_and_sends_the_token(rasa_server: str) -> None:
    fallback = RecordingBackend()
    rasa = RasaNlu(url=rasa_server + "/secure/", token="s3cret", timeout=2.0, fallback=fallback)
    try:
        parse = await rasa.parse("绑定13800000001")
    finally:
        await rasa.aclose()
    assert parse.intent == IntentScore("bind_account", 0.91)
    assert [s.name for s in parse.intent_ranking] == ["bind_account", "profile_update"]
    assert parse.entities[0].value == "13800000001"
    assert parse.entities[0].extractor == "DIETClassifier"
    assert (fallback.calls, rasa.fallbacks) == (0, 0)
    last = _RasaHandler.requests[-1]
    assert last["path"] == "/secure/model/parse"
    assert last["query"] == {"token": ["s3cret"]}
    assert last["body"] == {"text": "绑定13800000001"}


async def test_kefu_entities_replace_rasa_values(rasa_server: str, nlu: EmbeddedNlu) -> None:
    rasa = RasaNlu(url=rasa_server + "/ok", token=None, timeout=2.0, fallback=nlu,
                   entities=lambda text, zone: nlu.extract_entities(text, zone, TODAY))
    try:
        parse = await rasa.parse("绑定13800000001")
    finally:
        await rasa.aclose()
    assert parse.intent.name == "bind_account"
    assert parse.entities[0].value == "+8613800000001"
    assert "token" not in _RasaHandler.requests[-1]["query"]


@pytest.mark.parametrize("route", ["/slow", "/fail", "/junk", "/shape", "/secure", "/nowhere/x"])
async def test_failures_fall_back_and_are_counted(
    rasa_server: str, route: str, caplog: pytest.LogCaptureFixture
) -> None:
    fallback = RecordingBackend()
    rasa = RasaNlu(url=rasa_server + route, token=None, timeout=0.3, fallback=fallback)
    started = time.perf_counter()
    try:
        with caplog.at_level(logging.WARNING, logger="nlu.rasa_client"):
            parse = await rasa.parse("我的手机13912345678被盗了")
    finally:
        await rasa.aclose()
    assert time.perf_counter() - started < 0.9  # the slow server is not waited for
    assert parse.intent.name == "greet"
    assert (fallback.calls, rasa.fallbacks) == (1, 1)
    assert rasa.last_failure
    assert "fallback" in caplog.text
    assert "13912345678" not in caplog.text  # the customer's text is not logged


async def test_unreachable_server_falls_back(closed_port_url: str) -> None:
    fallback = RecordingBackend()
    rasa = RasaNlu(url=closed_port_url, token=None, timeout=0.5, fallback=fallback)
    try:
        await rasa.parse("hi")
        await rasa.parse("hi again")
    finally:
        await rasa.aclose()
    assert rasa.fallbacks == 2
    assert "ConnectError" in (rasa.last_failure or "")


async def test_rasa_fallback_intent_and_threshold_become_out_of_scope(rasa_server: str) -> None:
    rasa = RasaNlu(url=rasa_server + "/fallback", token=None, timeout=2.0,
                   fallback=RecordingBackend())
    strict = RasaNlu(url=rasa_server + "/ok", token=None, timeout=2.0,
                     fallback=RecordingBackend(), threshold=0.95)
    try:
        assert (await rasa.parse("??")).intent.name == "out_of_scope"
        low = await strict.parse("绑定")
    finally:
        await rasa.aclose()
        await strict.aclose()
    assert low.intent == IntentScore("out_of_scope", 0.95)
    assert low.intent_ranking[0].name == "bind_account"


@pytest.mark.parametrize("body", [None, [], {"intent": None}, {"intent": {"name": ""}},
                                  {"intent": {"name": "x", "confidence": "high"}},
                                  {"intent": {"name": "x", "confidence": 1},
                                   "entities": [{"entity": "e"}]}])
def test_malformed_bodies_are_rejected(body: Any) -> None:
    with pytest.raises(RasaResponseError):
        parse_from_rasa("text", body)
