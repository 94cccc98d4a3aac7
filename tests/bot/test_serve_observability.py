"""`kefu serve` as a process: JSON log lines with one correlation id from the request to the
case event and the reply, openids and phone numbers masked in the access log, and the desk's
series on /metrics."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT

OPENID = "oKefuLogTest0000000000000001"
PHONE = "13912345678"
REQUEST_ID = "test-req-0001-abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "TELEGRAM_",
                                                                      "WECHAT_"))}
    env.update(KEFU_CONFIG=str(ROOT / "config.yml"), PYTHONPATH=str(ROOT),
               KEFU_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'kefu.db'}",
               KEFU_APP__DATA_DIR=str(tmp_path / "data"), KEFU_LOGS__FORMAT="json",
               KEFU_NLU__MODEL_DIR=str(tmp_path / "model"), KEFU_SECRET_KEY="s" * 32,
               WECHAT_TOKEN="wechat-token-for-tests")
    with log.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port)],
                                   cwd=tmp_path, env=env, stdout=sink, stderr=sink)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, log.read_text()
                time.sleep(0.3)
            else:
                raise AssertionError("kefu serve did not start:\n" + log.read_text())
            yield url, log
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_one_correlation_id_from_request_to_case_event_and_masked_logs(
        served: tuple[str, Path]) -> None:
    url, log = served
    answer = httpx.post(url + "/webhooks/rest/webhook", headers={"x-request-id": REQUEST_ID},
                        json={"sender": "log-visitor", "message": "/human_agent"}, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == REQUEST_ID
    other = httpx.post(url + "/webhooks/rest/webhook",
                       json={"sender": "log-visitor-2", "message": f"绑定{PHONE}"}, timeout=30)
    generated = other.headers["x-request-id"]
    assert generated and generated != REQUEST_ID
    # A WeChat push with a wrong signature: refused, but logged with the openid masked.
    httpx.get(url + "/webhooks/wechat", params={
        "signature": "0" * 40, "timestamp": "1", "nonce": "2", "echostr": "x",
        "openid": OPENID}, timeout=30)
    metrics = httpx.get(url + "/metrics", timeout=30).text
    assert 'kefu_cases_active{kind="chat",status="new"} 1.0' in metrics
    assert 'kefu_handoffs_total{reason="asked"} 1.0' in metrics
    assert 'kefu_cases_opened_total{channel="web",kind="chat"} 1.0' in metrics
    assert "kefu_nlu_confidence_bucket" in metrics
    time.sleep(0.5)  # let the last lines reach the file

    text = log.read_text(encoding="utf-8")
    assert OPENID not in text and PHONE not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert lines, text
    ours = [line for line in lines if line.get("correlation_id") == REQUEST_ID]
    events = {line.get("kind") for line in ours if line["event"] == "case_event"}
    assert {"created", "queued"} <= events, text[-4000:]
    access = [line for line in ours if line["event"] == "request"]
    assert access and access[0]["path"] == "/webhooks/rest/webhook"
    assert access[0]["status"] == 200
    wechat = [line for line in lines if line["event"] == "request"
              and line.get("path") == "/webhooks/wechat"]
    assert wechat and "openid=***" in wechat[0]["query"]
    assert "signature=***" in wechat[0]["query"]
    assert all("timestamp" in line and "level" in line for line in lines)
