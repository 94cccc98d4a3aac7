"""Serve an ASGI app with uvicorn in a background thread, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal, Protocol, runtime_checkable

import uvicorn

STARTUP_TIMEOUT = 10.0


@runtime_checkable
class Simulator(Protocol):
    """A simulator object: its ASGI app, and a flag that ends its long polls."""

    app: Any
    closing: bool


@contextlib.contextmanager
def serve_in_thread(
    target: Simulator | Any,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log_level: str = "warning",
    lifespan: Literal["auto", "on", "off"] = "auto",
    shutdown_timeout: float = 5.0,
) -> Iterator[str]:
    """Serve a simulator (or any ASGI app) on ``host``:``port`` and yield its base URL.

    ``port=0`` picks a free port. The socket is bound before the thread starts, so the URL
    is connectable the moment this yields; leaving the block stops the server and joins the
    thread. A simulator gets ``closing`` set first, so its long polls end at once instead of
    holding the shutdown.
    """
    simulator = target if isinstance(target, Simulator) else None
    app: Any = simulator.app if simulator is not None else target
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_host, bound_port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan=lifespan,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    # uvicorn installs signal handlers only on the main thread, so none are touched here.
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{bound_port}", daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread)
        yield f"http://{bound_host}:{bound_port}"
    finally:
        if simulator is not None:
            simulator.closing = True
        server.should_exit = True
        thread.join(shutdown_timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(shutdown_timeout)
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn exited during startup; see its log above")
        if time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start within {STARTUP_TIMEOUT} s")
        time.sleep(0.01)
