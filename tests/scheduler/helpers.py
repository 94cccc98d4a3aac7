"""Shared steps of the scheduler tests: metric values, job records, waiting for an effect."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from prometheus_client import REGISTRY

from bot.app import Kefu
from bot.core.storage.models_jobs import JobState
from scheduler import state


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def job_states(kefu: Kefu) -> dict[str, JobState]:
    async with kefu.sessions() as session:
        return await state.all_states(session)


async def eventually(check: Callable[[], Awaitable[bool]], *, seconds: float = 20,
                     what: str = "the effect") -> None:
    """Polls ``check`` until it holds; fails naming ``what`` after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {seconds} s")
