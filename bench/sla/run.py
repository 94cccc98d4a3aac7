"""SLA pass benchmark: python bench/sla/run.py [--cases 1000000] [--due 1000].

Seeds ``--cases`` open cases into a schema of its own on PostgreSQL (one INSERT … SELECT over
generate_series), ``--due`` of them with a warning due now, the rest with their next SLA
instants spread over the coming weeks, then times the SLA pass as the scheduler runs it
(scheduler.sla.check_deadlines): once with the due cases (their warnings are written), once
more when nothing is due. Prints a Markdown table for the README. Target: one pass over 10^6
open cases in <= 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.core.storage.db import make_engine, make_sessionmaker
from bot.core.storage.migrate import upgrade
from bot.core.storage.models_cases import CaseEvent
from bot.settings import DatabaseSettings, load_settings
from scheduler.sla import check_deadlines

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("KEFU_BENCH_POSTGRES_URL",
                        "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 14:00 in Shanghai: the desk is open

SEED = """
INSERT INTO cases (number, kind, description, priority, status, channel, identity_id,
                   conversation_id, language, timezone, created_at, updated_at,
                   first_response_due_at, resolution_due_at, sla_warn_at, sla_breach_at)
SELECT 'C-BENCH-' || g, 'chat', '', 'normal', 'open', 'web', :identity, :conversation,
       'zh-Hans', 'Asia/Shanghai', t.now - interval '1 hour', t.now - interval '1 hour',
       CASE WHEN g <= CAST(:due AS integer) THEN t.now + interval '10 minutes'
            ELSE t.now + (g % 40000) * interval '1 minute' + interval '1 day' END,
       t.now + interval '3 days',
       CASE WHEN g <= CAST(:due AS integer) THEN t.now - interval '1 minute'
            ELSE t.now + (g % 40000) * interval '1 minute' + interval '23 hours' END,
       CASE WHEN g <= CAST(:due AS integer) THEN t.now + interval '10 minutes'
            ELSE t.now + (g % 40000) * interval '1 minute' + interval '1 day' END
FROM generate_series(1, CAST(:cases AS integer)) AS g,
     (SELECT CAST(:now AS timestamptz) AS now) AS t
"""


async def main(cases: int, due: int) -> None:
    schema = f"kefu_bench_sla_{secrets.token_hex(3)}"
    engine = make_engine(PG_URL, schema=schema)
    base = load_settings(ROOT / "config.yml")
    settings = base.model_copy(update={"database_url": PG_URL, "database": DatabaseSettings(
        url=PG_URL, schema_name=schema)})
    try:
        await upgrade(engine, schema=schema)
        started = time.perf_counter()
        async with engine.begin() as connection:
            identity = await connection.scalar(text(
                "INSERT INTO channel_identities (channel, external_id, window_sent, created_at,"
                " last_seen_at) VALUES ('web', 'bench', 0, :now, :now) RETURNING id"),
                {"now": NOW})
            conversation = await connection.scalar(text(
                "INSERT INTO conversations (identity_id, channel, status, state, started_at,"
                " last_message_at) VALUES (:identity, 'web', 'agent', '{}', :now, :now)"
                " RETURNING id"), {"identity": identity, "now": NOW})
            await connection.execute(text(SEED), {"identity": identity,
                                                  "conversation": conversation, "now": NOW,
                                                  "due": due, "cases": cases})
            await connection.execute(text("ANALYZE cases"))
        seeded = time.perf_counter() - started
        sessions = make_sessionmaker(engine)
        rows = []
        for label in (f"{due:,} due (warnings written)", "nothing due"):
            started = time.perf_counter()
            report = await check_deadlines(sessions, settings=settings, clock=lambda: NOW)
            took = time.perf_counter() - started
            rows.append((label, report.looked_at, report.warned, took))
        async with sessions() as session:
            warnings = await session.scalar(select(func.count()).select_from(CaseEvent))
        assert warnings == due, f"expected {due} warnings, found {warnings}"
        print(f"seeded {cases:,} open cases in {seeded:.1f} s (schema {schema})\n")
        print("| SLA pass over open cases (PostgreSQL) | cases read | warnings | time |")
        print("|---|---|---|---|")
        for label, looked, warned, took in rows:
            print(f"| {cases:,} open, {label} | {looked:,} | {warned:,} | {took:.3f} s |")
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.due))
