"""What every CLI command shares: settings with exit code 2 on bad config, a built Kefu."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

import typer

from bot.core.errors import ConfigError, ImportValidationError, KefuError
from bot.core.logmask import install_log_masking
from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    # The app and the database layer load when a command opens them, not when the CLI starts.
    from bot.app import Kefu
    from nlu.protocol import NluBackend

T = TypeVar("T")
CONFIG_EXIT = 2


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise fail(str(exc), CONFIG_EXIT) from None


def setup_logging(level: int = logging.WARNING) -> None:
    install_log_masking()  # before any record is made: phone numbers never reach a handler
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
    for noisy in ("httpx", "httpcore", "telegram"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def run_async(work: Callable[[], Awaitable[T]], *, fast_loop: bool = False) -> T:
    """Runs a coroutine, turning Kefu's expected errors into a message and exit code.

    ``fast_loop`` runs it on uvloop (installed with uvicorn's standard extra), where there is
    one: the server's HTTP and socket work costs noticeably less CPU there than on asyncio's
    own loop (bench/turns).
    """
    try:
        with asyncio.Runner(loop_factory=_loop_factory() if fast_loop else None) as runner:
            return runner.run(work())  # type: ignore[arg-type]
    except ConfigError as exc:
        raise fail(str(exc), CONFIG_EXIT) from None
    except ImportValidationError as exc:
        raise fail("\n".join([*exc.errors, f"Error: {exc}"])) from None
    except KefuError as exc:
        raise fail(f"Error: {exc}") from None


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # a platform without a uvloop wheel: asyncio's loop serves as well
        return None
    return uvloop.new_event_loop


def is_embedded(settings: Settings) -> bool:
    return settings.effective_database_url.startswith("sqlite")


@asynccontextmanager
async def open_kefu(settings: Settings, *, nlu: NluBackend | None = None,
                    prepared: bool = False) -> AsyncIterator[Kefu]:
    """A ready Kefu: an embedded database is migrated on the spot; PostgreSQL must be
    migrated by the operator (`kefu db upgrade`), and Kefu says so when it is not.
    ``prepared``: another process just did that (`kefu serve`), skip it."""
    from bot.app import build_kefu

    embedded = is_embedded(settings)
    if embedded:
        settings.app.data_dir.mkdir(parents=True, exist_ok=True)
    elif not prepared:
        await _require_migrated(settings)
    kefu = await build_kefu(settings, nlu=nlu, migrate=embedded and not prepared)
    try:
        yield kefu
    finally:
        await kefu.aclose()


async def _require_migrated(settings: Settings) -> None:
    from bot.core.storage.db import make_engine
    from bot.core.storage.migrate import current_revision, head_revision

    engine = make_engine(settings.effective_database_url, schema=settings.database.schema_name)
    try:
        current = await current_revision(engine)
    except Exception as exc:  # connection refused, auth, unknown database: all operator errors
        raise ConfigError(f"Cannot reach the database at {engine.url.render_as_string()}: "
                          f"{exc.__class__.__name__}: {exc}") from exc
    finally:
        await engine.dispose()
    head = head_revision()
    if current != head:
        raise ConfigError(f"The database schema is at {current or 'nothing'}, Kefu needs {head}: "
                          "run `kefu db upgrade` first")
