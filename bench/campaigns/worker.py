"""One delivery worker of the campaign benchmark: a Kefu dispatcher in its own process.

Usage: python bench/campaigns/worker.py DB_URL SCHEMA SIM_URL SECONDS LIMITED(0|1) [REDIS_URL]
Prints one JSON line: sent, 429s met, peak RSS in MB.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.channels.telegram_sender import TelegramSender, make_bot
from bot.core.metrics import OUTBOX_RETRIED
from bot.core.storage.db import make_engine, make_sessionmaker
from bot.delivery import TELEGRAM_POLICY
from bot.outbox.dispatcher import ChannelPolicy, Dispatcher
from bot.outbox.shared_limit import DatabaseLimit, RedisLimit, SharedLimit

TOKEN = "123456:bench-campaigns"


async def main(url: str, schema: str, sim: str, seconds: float, limited: bool,
               redis_url: str | None) -> None:
    engine = make_engine(url, schema=schema or None)
    sessions = make_sessionmaker(engine)
    shared: dict[str, SharedLimit] = {}
    policy = TELEGRAM_POLICY
    if limited:
        shared["telegram"] = (
            RedisLimit(redis_url, key=f"kefu-bench:{schema}", limit=policy.window_limit,
                       seconds=policy.window_seconds) if redis_url else
            DatabaseLimit(sessions, key=f"bench:{schema}"[:64], limit=policy.window_limit,
                          seconds=policy.window_seconds))
    else:
        policy = ChannelPolicy(per_second=1_000_000)
    dispatcher = Dispatcher(sessions=sessions, senders={"telegram": TelegramSender(
        make_bot(TOKEN, sim))}, policies={"telegram": policy}, shared=shared,
        batch=200 if not limited else 50, concurrency=32 if not limited else 8)
    deadline = time.monotonic() + seconds
    idle = 0
    while time.monotonic() < deadline and idle < 3:
        handled = await dispatcher.run_once()
        idle = 0 if handled else idle + 1
        if not handled:
            await asyncio.sleep(0.5)
    await dispatcher.aclose()
    await engine.dispose()
    print(json.dumps({"sent": dispatcher.sent,
                      "throttled": int(OUTBOX_RETRIED.labels("telegram",
                                                             "rate_limited")._value.get()),
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]),
                     sys.argv[5] == "1", sys.argv[6] if len(sys.argv) > 6 else None))
