"""`kefu serve`: the HTTP server (webhooks, web chat, API) in one process. The server is
imported when it runs, so that `kefu serve --help` starts fast."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bot.settings import Settings


def serve(
    host: Annotated[str | None, typer.Option(
        metavar="ADDRESS", show_default=False,
        help="Address to listen on  [default: server.host in config.yml, 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(
        metavar="PORT", show_default=False,
        help="Port to listen on  [default: server.port in config.yml, 8000]")] = None,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Seed demo members and console logins first, and print the logins "
                       "(no tokens needed)")] = False,
) -> None:
    """Run Kefu: the web chat at /, the agent console at /console, the platform webhooks,
    /model/parse and /healthz, with the scheduler, in one process.

    With --demo everything works on this machine alone: try the web chat as demo-gold, then
    sign in to the console with a demo login to answer what it could not.
    """
    from bot.cli.common import run_async, settings_or_exit, setup_logging
    from bot.cli.demo_cmd import seed
    from bot.console.demo import login_lines
    from bot.core.logs import configure_logging

    setup_logging(logging.INFO)
    settings = settings_or_exit()
    log_format = settings.logs.format
    configure_logging(json=log_format == "json"
                      or (log_format == "auto" and settings.is_production))
    bind_host = host or settings.server.host
    bind_port = port or settings.server.port
    if demo:
        report = run_async(lambda: seed(settings))
        typer.echo(f"Demo data ready ({report.members_total} members). Try the demo senders "
                   "demo-silver, demo-gold and demo-diamond.")
    typer.echo(f"Web chat:      http://{bind_host}:{bind_port}/")
    typer.echo(f"Health:        http://{bind_host}:{bind_port}/healthz")
    typer.echo(f"Agent console: http://{bind_host}:{bind_port}/console")
    if demo:
        typer.echo("Demo console logins:\n" + "\n".join(login_lines()))
    run_async(lambda: _serve(settings, bind_host, bind_port))


async def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from bot.app_proactive import planner_for
    from bot.cli.common import open_kefu
    from bot.cli.nlu_loading import load_nlu
    from bot.server.asgi import create_app
    from scheduler.runner import start_scheduler

    nlu = await asyncio.to_thread(load_nlu, settings)
    async with open_kefu(settings, nlu=nlu) as kefu:
        app = create_app(kefu, close_on_shutdown=False)
        # uvicorn's own access log stays off: it would print the WeChat follower's openid
        # from the query string. Kefu's (bot/server/access_log.py) masks it. log_config=None
        # sends uvicorn's records through Kefu's handler (bot/core/logs.py).
        config = uvicorn.Config(app, host=host, port=port, log_level="info", log_config=None,
                                proxy_headers=True, server_header=False, access_log=False)
        jobs = await start_scheduler(sessions=kefu.sessions, settings=settings,
                                     engine=kefu.engine, planner=planner_for(kefu))
        try:
            await uvicorn.Server(config).serve()
        finally:
            await jobs.stop()
