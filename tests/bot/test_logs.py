"""Masking in log lines, and the correlation id's scope."""

from __future__ import annotations

from bot.core.correlation import accepted, correlated, current
from bot.core.logs import mask_event, mask_text


def test_openids_tokens_query_secrets_and_phones_are_masked() -> None:
    line = ("GET /webhooks/wechat?signature=abc123&timestamp=1&nonce=99&openid=oKefuDemoGold0000"
            "0000000001 from oKefuDemoGold00000000000001 bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5"
            "PALDsaw1 phone 13912345678")
    masked = mask_text(line)
    assert "signature=***" in masked and "nonce=***" in masked and "openid=***" in masked
    assert "timestamp=1" in masked
    assert "oKefuDemoGold00000000000001" not in masked and "oKef***" in masked
    assert "AAHdqTcv" not in masked
    assert "13912345678" not in masked and "139****5678" in masked


def test_secret_keys_are_hidden_whole() -> None:
    event = mask_event(None, "info", {"event": "sent", "recipient_id": "o123", "token": "t",
                                      "count": 3, "note": "call 13800000001"})
    assert event == {"event": "sent", "recipient_id": "***", "token": "***", "count": 3,
                     "note": "call 138****0001"}


def test_correlation_ids_nest_and_end_with_their_block() -> None:
    assert current() is None
    with correlated("request-0001") as outer:
        assert current() == outer == "request-0001"
        with correlated() as inner:  # a turn inside a request keeps the request's id
            assert inner == "request-0001"
    assert current() is None
    with correlated() as made:
        assert made and current() == made
    assert accepted("short") is None and accepted("ok-request-id-1") == "ok-request-id-1"
    assert accepted("bad id with spaces") is None
