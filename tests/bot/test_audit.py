"""The audit log: recorded with the work, searchable, exportable, append-only."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from bot.app import Kefu
from bot.core import audit
from bot.core.storage.db import transaction
from bot.core.storage.security_models import AuditEntry
from tests.conftest import FIXED_NOW, Database


async def _seed(kefu: Kefu) -> None:
    async with transaction(kefu.sessions) as session:
        await audit.record_pii_view(session, actor="agent:lihua", member_no="M000001",
                                    unmasked=True, purpose="phone callback")
        await audit.record_login(session, account="lihua", ip="10.0.0.9", ok=False,
                                 reason="bad password")
        await audit.record_role_change(session, actor="agent:boss", account="lihua",
                                       old_role="agent", new_role="supervisor")
        await audit.record_config_reload(session, actor="cli:root", changed=["nlu.threshold"])
        await audit.record_points_adjustment(session, actor="agent:boss", member_no="M000002",
                                             points=-300, reason="duplicate receipt")
        await audit.record(session, actor="cli:root", action=audit.MEMBER_EXPORT,
                           subject="M000001", now=FIXED_NOW - timedelta(days=10))


async def test_search_by_actor_action_subject_and_time(kefu: Kefu) -> None:
    await _seed(kefu)
    async with transaction(kefu.sessions) as session:
        assert [e.action for e in await audit.search(session, actor="agent:boss")] \
            == [audit.POINTS_ADJUST, audit.ROLE_CHANGE]
        pii = await audit.search(session, action="pii")
        assert [e.action for e in pii] == [audit.PII_UNMASK]
        assert pii[0].detail == {"purpose": "phone callback"}
        about = await audit.search(session, subject="M000001")
        assert [e.action for e in about] == [audit.PII_UNMASK, audit.MEMBER_EXPORT]
        old = await audit.search(session, until=FIXED_NOW - timedelta(days=1))
        assert [e.action for e in old] == [audit.MEMBER_EXPORT]
        recent = await audit.search(session, since=FIXED_NOW - timedelta(days=1))
        assert len(recent) == 5


async def test_export_is_json_lines_oldest_first_across_batches(kefu: Kefu) -> None:
    await _seed(kefu)
    async with transaction(kefu.sessions) as session:
        lines = [line async for line in audit.export_lines(session, batch=2)]
    entries = [json.loads(line) for line in lines]
    assert len(entries) == 6
    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
    assert {"id", "at", "actor", "action", "subject", "detail"} == set(entries[0])


async def test_phone_numbers_in_details_are_masked(kefu: Kefu) -> None:
    async with transaction(kefu.sessions) as session:
        await audit.record(session, actor="agent:x", action=audit.PII_VIEW, subject="M1",
                           detail={"note": "called +8613800000001", "list": ["13800000002"]})
    async with transaction(kefu.sessions) as session:
        (entry,) = await audit.search(session)
    dumped = json.dumps(entry.detail)
    assert "13800000001" not in dumped and "13800000002" not in dumped
    assert "138****0001" in dumped


async def test_postgresql_refuses_update_and_delete(kefu: Kefu, database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    await _seed(kefu)
    for statement in (update(AuditEntry).values(actor="someone-else"), delete(AuditEntry)):
        with pytest.raises(DBAPIError, match="append-only"):
            async with transaction(kefu.sessions) as session:
                await session.execute(statement)
    async with database.engine.connect() as connection:
        count = await connection.scalar(text("SELECT count(*) FROM audit_log"))
    assert count == 6


def test_no_code_path_updates_or_deletes_audit_rows() -> None:
    """Append-only in code: nothing in Kefu's packages writes UPDATE/DELETE on the log."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for package in ("bot", "handlers", "scheduler"):
        for path in (root / package).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            for needle in ("update(AuditEntry", "delete(AuditEntry", "UPDATE audit_log",
                           "DELETE FROM audit_log"):
                if needle in source and "migrations" not in path.parts:
                    offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []
