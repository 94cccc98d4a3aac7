"""A campaign sender in a process of its own, for the crash test: runs the campaign job once
(every due campaign, batch by batch), printing a line per committed batch.

Usage: python -m tests.proactive.campaign_worker DATABASE_URL SCHEMA BATCH
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from pydantic import SecretStr

from bot.app import build_kefu
from bot.app_proactive import planner_for
from bot.features.proactive.live import LiveProactive
from bot.settings import DatabaseSettings
from scheduler.campaigns import send_due_campaigns
from tests.conftest import make_settings


async def main(url: str, schema: str, batch: int) -> None:
    settings = make_settings(database_url=url, telegram_bot_token=SecretStr("123:crash-test"),
                             database=DatabaseSettings(url=url, schema_name=schema or None))
    kefu = await build_kefu(settings)
    planner = planner_for(kefu, LiveProactive(settings.proactive, None))

    def breathe() -> None:
        print("batch", flush=True)

    try:
        await send_due_campaigns(sessions=kefu.sessions, planner=planner,
                                 clock=lambda: datetime.now(UTC), batch=batch, on_batch=breathe)
    finally:
        await kefu.aclose()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
