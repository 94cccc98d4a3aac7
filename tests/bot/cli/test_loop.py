"""The event loop `kefu serve` runs on."""

from __future__ import annotations

import asyncio


def test_the_server_runs_on_uvloop() -> None:
    """`kefu serve` runs its loop on uvloop (uvicorn's standard extra): the same turns cost
    less CPU there than on asyncio's own loop (bench/turns)."""
    import uvloop

    from bot.cli.common import run_async

    async def loop_type() -> type:
        return type(asyncio.get_running_loop())

    assert run_async(loop_type, fast_loop=True) is uvloop.Loop
    assert run_async(loop_type) is not uvloop.Loop
