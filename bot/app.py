"""The composition root: builds Kefu's long-lived parts from the settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.crypto import FieldCipher
from bot.core.i18n import translator
from bot.core.storage.db import make_engine, make_sessionmaker
from bot.core.storage.migrate import upgrade
from bot.dialogue.pipeline import Clock, Dialogue, utc_clock
from bot.dialogue.registry import Registry
from bot.dialogue.turn import Services

# Modules that add their records to member exports and erasures register on import.
from bot.features.binding import privacy as _binding_privacy  # noqa: F401
from bot.features.cases import privacy as _cases_privacy  # noqa: F401
from bot.features.members.directory import Directory
from bot.features.security.rotation import seal_plain_values
from bot.settings import Settings, previous_secret_keys, resolve_secret_key
from handlers import register_all
from nlu.protocol import NluBackend

log = logging.getLogger(__name__)


# WeChat replies wait this long for the webhook to answer passively before the dispatcher
# may send them through the customer-service API (the webhook makes them due sooner).
WECHAT_PASSIVE_HOLD = timedelta(seconds=30)


def outbox_delays(settings: Settings) -> dict[str, timedelta]:
    """Channels whose replies go through the outbox: the platforms that are configured."""
    delays: dict[str, timedelta] = {}
    if settings.channels.telegram.enabled and settings.telegram_bot_token is not None:
        delays["telegram"] = timedelta(0)
    if settings.channels.wechat.enabled and settings.wechat_token is not None:
        delays["wechat"] = WECHAT_PASSIVE_HOLD
    return delays


@dataclass(slots=True)
class Kefu:
    """Everything one process needs; close it with :meth:`aclose`."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    directory: Directory
    services: Services
    dialogue: Dialogue
    secret_generated: bool

    async def ping_database(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # any driver error means "not healthy"; the reason is logged
            log.warning("database health check failed", exc_info=True)
            return False
        return True

    async def aclose(self) -> None:
        await self.engine.dispose()


async def build_kefu(
    settings: Settings,
    *,
    nlu: NluBackend | None = None,
    migrate: bool = False,
    clock: Clock = utc_clock,
) -> Kefu:
    """Builds the parts; with ``migrate`` the database is first brought up to date."""
    secret, generated = resolve_secret_key(settings)
    if generated:
        log.warning("KEFU_SECRET_KEY is not set: using a generated development key kept in %s",
                    settings.app.data_dir / "secret.key")
    engine = make_engine(settings.effective_database_url, schema=settings.database.schema_name,
                         echo=settings.database.echo)
    if migrate:
        await upgrade(engine, schema=settings.database.schema_name)
    directory = Directory(FieldCipher(secret),
                          tuple(FieldCipher(key) for key in previous_secret_keys(settings)))
    sessions = make_sessionmaker(engine, keyring=directory.keyring)
    if migrate:
        await seal_plain_values(sessions, directory=directory)
    services = Services(settings=settings, directory=directory, translator=translator(),
                        nlu=nlu, outbox_delays=outbox_delays(settings),
                        no_buttons=frozenset({"wechat"}))
    dialogue = Dialogue(services=services, sessions=sessions,
                        registry=register_all(Registry()), clock=clock)
    return Kefu(settings=settings, engine=engine, sessions=sessions, directory=directory,
                services=services, dialogue=dialogue, secret_generated=generated)
