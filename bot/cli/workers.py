"""Several `kefu serve` workers on one listening socket: forked children, one supervisor.

The supervisor binds the port, forks the workers (they share what it loaded, the NLU model
first), forwards SIGTERM and SIGINT to them, and starts a worker again when one dies
unexpectedly. Each worker runs the whole server; the scheduler's leader lock
(scheduler/leader.py) lets exactly one of them run the timed jobs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

import click

log = logging.getLogger(__name__)
T = TypeVar("T")

# A worker that dies this soon after it started, this many times in a row, is not restarted:
# something is wrong with the setup, not with one request.
QUICK_DEATH_SECONDS = 10.0
QUICK_DEATHS = 3


def default_workers(*, embedded: bool) -> int:
    """One per CPU on PostgreSQL; one on SQLite, which has a single writer anyway."""
    return 1 if embedded else max(1, os.cpu_count() or 1)


def bind_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening socket for the workers (the kernel hands each connection to one of them)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    # Accepted connections inherit it. The event loop sets it on sockets it binds itself, not
    # on one handed over: without it a response written in two parts (head, body) waits for
    # the client's delayed ACK, 40 ms a request.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def bind_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """One listening socket per worker on the same port, where the kernel spreads new
    connections over them (Linux's SO_REUSEPORT); else one socket they all share.

    On one shared socket the event loop that wakes first accepts every connection waiting,
    so a burst of keep-alive connections all lands on one worker while the others idle
    (bench/turns saw one of two workers at 100% CPU). The supervisor keeps every socket
    open: connections queued for a worker that died wait for the worker started in its place.
    """
    if count == 1 or not hasattr(socket, "SO_REUSEPORT"):
        return [bind_socket(host, port)] * count
    first = bind_socket(host, port, reuse_port=True)
    # Port 0 (tests): the others join the port the first one got.
    port = first.getsockname()[1]
    return [first, *(bind_socket(host, port, reuse_port=True) for _ in range(count - 1))]


def run_workers(count: int, work: Callable[[int], None]) -> int:
    """Runs ``work(index)`` in ``count`` forked processes (index 1…count) until they stop;
    returns the exit code for the supervisor."""
    children: dict[int, tuple[int, float]] = {}
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):  # it has just exited
                os.kill(pid, signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)

    for index in range(1, count + 1):
        children[_spawn(index, work)] = (index, time.monotonic())
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    quick_deaths, code = 0, 0
    try:
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            if pid not in children:
                continue
            index, started = children.pop(pid)
            exit_code = os.waitstatus_to_exitcode(status)
            if stopping:
                continue
            quick = time.monotonic() - started < QUICK_DEATH_SECONDS
            quick_deaths = quick_deaths + 1 if quick else 0
            if quick_deaths >= QUICK_DEATHS:
                log.error("worker %d exited with %d right after starting, %d times in a row; "
                          "stopping", index, exit_code, quick_deaths)
                code = exit_code or 1
                stop(signal.SIGTERM, None)
                continue
            log.warning("worker %d (pid %d) exited with %d; starting it again",
                        index, pid, exit_code)
            children[_spawn(index, work)] = (index, time.monotonic())
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


def _spawn(index: int, work: Callable[[int], None]) -> int:
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    # The child: default signal handling (uvicorn installs its own), then the work.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    _stop_with_parent(parent)
    code = 0
    try:
        work(index)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)
    return 0  # not reached: os._exit never returns


def in_child(work: Callable[[], T]) -> T:
    """``work()`` in a forked child; its result (pickled through a pipe) comes back, what it
    loaded and allocated (migrations, demo seeding) goes away with the child.

    Raises:
        click.exceptions.Exit: the child failed; its exit code (it said why itself).
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        code = 0
        try:
            result = work()
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(result, pipe)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or not data:
        raise click.exceptions.Exit(code or 1)
    answer: T = pickle.loads(data)  # noqa: S301  our own child wrote it
    return answer


def _stop_with_parent(parent: int) -> None:
    """A worker whose supervisor was killed outright dies with it, as one process would: no
    orphan goes on holding the port and the scheduler lock. (SIGTERM to the supervisor still
    stops the workers gracefully.)"""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the supervisor's SIGTERM must do
        return
    if os.getppid() != parent:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGKILL)
