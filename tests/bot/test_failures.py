"""Quiet failure logs: one line each with kind and count, a traceback once a minute."""

from __future__ import annotations

import logging

import pytest

from bot.core.failures import FailureLog


def test_one_line_per_failure_and_one_traceback_per_kind_per_minute(
    caplog: pytest.LogCaptureFixture
) -> None:
    now = [0.0]
    logger = logging.getLogger("tests.failures")
    failures = FailureLog(logger, clock=lambda: now[0])
    caplog.set_level(logging.WARNING, logger="tests.failures")
    error = ConnectionRefusedError(111, "Connect call failed")
    for second in range(120):
        now[0] = float(second)
        failures.failure("db.down", "turn not stored for %s", "wechat", exc=error)
    failures.failure("other.kind", "something else", exc=error)
    records = caplog.records
    assert len(records) == 121
    assert records[0].getMessage() == (
        "turn not stored for wechat [db.down #1] (ConnectionRefusedError: "
        "[Errno 111] Connect call failed)")
    assert records[119].getMessage().startswith("turn not stored for wechat [db.down #120]")
    traced = [r for r in records if r.exc_info]
    # At 0 s and 60 s for db.down; at once for the new kind.
    assert [(r.getMessage().split(" [")[1].split("]")[0]) for r in traced] == [
        "db.down #1", "db.down #61", "other.kind #1"]
    assert failures.count("db.down") == 120
