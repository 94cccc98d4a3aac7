"""`kefu serve`: the HTTP server (webhooks, web chat, API), in one or several workers."""

from __future__ import annotations

import logging
import os
import socket
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bot.settings import Settings
    from nlu.protocol import NluBackend

# The server, the database layer and the NLU are imported when `kefu serve` runs, so that
# `kefu serve --help` starts fast (tests/bot/cli/test_lazy.py).

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
    workers: Annotated[int | None, typer.Option(
        metavar="N", min=1, max=64, show_default=False,
        help="Worker processes sharing the port; exactly one runs the timed jobs  "
             "[default: the CPU count on PostgreSQL, 1 on SQLite]")] = None,
) -> None:
    """Run Kefu: the web chat at /, the agent console at /console, the platform webhooks,
    /model/parse and /healthz, with the scheduler, in one process.

    With --demo everything works on this machine alone: try the web chat as demo-gold, then
    sign in to the console with a demo login to answer what it could not.
    """
    from bot.cli.common import is_embedded, run_async, settings_or_exit, setup_logging
    from bot.cli.nlu_loading import load_nlu
    from bot.cli.workers import bind_sockets, default_workers, in_child, run_workers
    from bot.console.demo import login_lines
    from bot.core.logs import configure_logging

    setup_logging(logging.INFO)
    settings = settings_or_exit()
    log_format = settings.logs.format
    configure_logging(json=log_format == "json"
                      or (log_format == "auto" and settings.is_production))
    bind_host = host or settings.server.host
    bind_port = port or settings.server.port
    # Migrations (SQLite), the schema check (PostgreSQL) and demo seeding run in a child
    # process: Alembic and the seeding's working memory never weigh on the server.
    members = in_child(lambda: run_async(lambda: _prepare(settings, demo=demo)))
    if demo:
        typer.echo(f"Demo data ready ({members} members). Try the demo senders "
                   "demo-silver, demo-gold and demo-diamond.")
    typer.echo(f"Web chat:      http://{bind_host}:{bind_port}/")
    typer.echo(f"Health:        http://{bind_host}:{bind_port}/healthz")
    typer.echo(f"Agent console: http://{bind_host}:{bind_port}/console")
    if demo:
        typer.echo("Demo console logins:\n" + "\n".join(login_lines()))
    count = workers or default_workers(embedded=is_embedded(settings))
    # Loaded before the workers fork: they share the model's memory instead of each
    # holding a copy, and the first customer does not wait for it.
    nlu = load_nlu(settings)
    if count == 1:
        run_async(lambda: _serve(settings, bind_host, bind_port, nlu=nlu), fast_loop=True)
        return
    typer.echo(f"Workers:       {count}")
    socks = bind_sockets(bind_host, bind_port, count)
    code = run_workers(count, lambda index: run_async(
        lambda: _serve(settings, bind_host, bind_port, nlu=nlu, sock=socks[index - 1],
                       worker=index),
        fast_loop=True))
    raise typer.Exit(code)


async def _prepare(settings: Settings, *, demo: bool) -> int:
    """Brings the database up to date (or checks it is); with ``demo`` seeds it. Returns the
    number of members."""
    if demo:
        from bot.cli.demo_cmd import seed

        return (await seed(settings)).members_total
    from bot.cli.common import open_kefu

    async with open_kefu(settings):
        return 0


async def _serve(settings: Settings, host: str, port: int, *, nlu: NluBackend,
                 sock: socket.socket | None = None, worker: int = 1) -> None:
    import uvicorn

    from bot.app_proactive import planner_for
    from bot.cli.common import open_kefu
    from bot.core import metrics
    from bot.server.asgi import create_app
    from scheduler.runner import start_scheduler

    metrics.WORKER_INFO.labels(worker=str(worker), pid=str(os.getpid())).set(1)
    async with open_kefu(settings, nlu=nlu, prepared=True) as kefu:
        app = create_app(kefu, close_on_shutdown=False)
        # uvicorn's own access log stays off: it would print the WeChat follower's openid
        # from the query string. Kefu's (bot/server/access_log.py) masks it. log_config=None
        # sends uvicorn's records through Kefu's handler (bot/core/logs.py).
        config = uvicorn.Config(app, host=host, port=port, log_level="info", log_config=None,
                                proxy_headers=True, server_header=False, access_log=False)
        jobs = await start_scheduler(sessions=kefu.sessions, settings=settings,
                                     engine=kefu.engine, planner=planner_for(kefu))
        try:
            await uvicorn.Server(config).serve(sockets=[sock] if sock is not None else None)
        finally:
            await jobs.stop()
