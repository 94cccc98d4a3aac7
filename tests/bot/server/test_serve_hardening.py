"""`kefu serve` as a process, spoken to over real HTTP: hostile JSON gets a 400 and the same
keep-alive connection keeps serving; a WeChat push URL replayed with another message gets 403."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from kefu_sim import render_xml, signature, text_message
from tests.conftest import ROOT

WX_TOKEN, TG_SECRET = "serve-wx-token", "serve-tg-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "TELEGRAM_",
                                                                      "WECHAT_"))}
    env.update(KEFU_CONFIG=str(ROOT / "config.yml"), KEFU_APP__DATA_DIR=str(tmp / "data"),
               KEFU_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'kefu.db'}",
               KEFU_SERVER__PUBLIC_URL="https://kefu.example.com", PYTHONPATH=str(ROOT),
               WECHAT_TOKEN=WX_TOKEN, TELEGRAM_BOT_TOKEN="123456:serve",
               TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
               TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{_free_port()}")  # closed
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=open(tmp / "serve.log", "wb"))  # noqa: SIM115
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("kefu serve did not start:\n"
                                     + (tmp / "serve.log").read_text(errors="replace"))
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_hostile_json_is_400_and_the_connection_keeps_serving(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    bodies = [b'{"update_id": ' + b"9" * 5000 + b"}", b"[" * 100_000 + b"]" * 100_000]
    for path in ("/webhooks/telegram", "/webhooks/rest/webhook", "/model/parse"):
        for body in bodies:
            connection.request("POST", path, body=body, headers={
                "X-Telegram-Bot-Api-Secret-Token": TG_SECRET,
                "Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            assert response.status == 400, (path, response.status)
            assert response.getheader("connection") != "close"
    # Still the same connection: http.client would raise if the server had dropped it.
    connection.request("GET", "/healthz")
    assert connection.getresponse().status == 200
    connection.close()


def test_curl_style_form_posts_are_read_as_json(server: str) -> None:
    # curl -d sends application/x-www-form-urlencoded; Rasa's clients rely on it working.
    response = httpx.post(f"{server}/webhooks/rest/webhook",
                          content=b'{"sender": "curl-user", "message": "/help"}',
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200 and response.json()[0]["recipient_id"] == "curl-user"


def test_a_replayed_wechat_push_url_is_refused(server: str) -> None:
    ts, nonce = str(int(time.time())), "4815162342"
    query = urlencode({"timestamp": ts, "nonce": nonce,
                       "signature": signature(WX_TOKEN, ts, nonce)})
    url = f"{server}/webhooks/wechat?{query}"

    def push(content: str, msg_id: int) -> httpx.Response:
        body = render_xml(text_message(content, openid="oServeReplay0000000000000001",
                                       msg_id=msg_id, create_time=int(ts)))
        return httpx.post(url, content=body.encode(), headers={"Content-Type": "text/xml"})

    first = push("/help", 1)
    assert first.status_code == 200 and "<Content>" in first.text
    assert push("/points_redeem coffee", 2).status_code == 403
    retry = push("/help", 1)
    assert retry.status_code == 200
    stale_ts = str(int(time.time()) - 600)
    stale = httpx.post(f"{server}/webhooks/wechat?" + urlencode(
        {"timestamp": stale_ts, "nonce": "1", "signature": signature(WX_TOKEN, stale_ts, "1")}),
        content=render_xml(text_message("/help", openid="oServeReplay0000000000000001",
                                        msg_id=3)).encode())
    assert stale.status_code == 403
