"""Shared fixtures: settings, and a migrated database on SQLite and on PostgreSQL.

Database-backed tests take the ``kefu`` fixture and run once per backend named in
KEFU_TEST_DATABASES (default "sqlite,postgresql"). PostgreSQL runs use a schema of their own,
dropped at the end, so concurrent runs never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Kefu, build_kefu
from bot.core.storage.db import make_engine
from bot.core.storage.migrate import upgrade
from bot.core.storage.schema import Base
from bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("KEFU_TEST_POSTGRES_URL",
                        "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("KEFU_TEST_DATABASES",
                                               "sqlite,postgresql").split(",") if b.strip()]
FIXED_NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai


def make_settings(**updates: Any) -> Settings:
    """The repo's config.yml with test-specific values layered on top."""
    base = load_settings(ROOT / "config.yml")
    values: dict[str, Any] = {"secret_key": None}
    values.update(updates)
    from pydantic import SecretStr

    if values["secret_key"] is None:
        values["secret_key"] = SecretStr("test-secret-" + "x" * 20)
    return base.model_copy(update=values)


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kefu")


class Database:
    """A migrated database for the whole session; emptied before each test."""

    def __init__(self, backend: str, url: str, schema: str | None) -> None:
        self.backend, self.url, self.schema = backend, url, schema
        self.engine: AsyncEngine = make_engine(url, schema=schema)

    async def truncate(self) -> None:
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        async with self.engine.begin() as connection:
            if self.backend == "postgresql":
                quoted = ", ".join(f'"{name}"' for name in tables)
                await connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    await connection.execute(text(f'DELETE FROM "{name}"'))


_databases: dict[str, Database] = {}


async def _database(backend: str, tmp_root: Path) -> Database:
    if backend not in _databases:
        if backend == "sqlite":
            db = Database(backend, f"sqlite+aiosqlite:///{tmp_root / 'test.db'}", None)
        elif backend == "postgresql":
            schema = f"kefu_test_{os.getpid()}_{secrets.token_hex(3)}"
            db = Database(backend, PG_URL, schema)
        else:
            raise ValueError(f"unknown test database {backend!r}")
        await upgrade(db.engine, schema=db.schema)
        _databases[backend] = db
    return _databases[backend]


@pytest_asyncio.fixture(scope="session", autouse=True, loop_scope="session")
async def _drop_schemas() -> AsyncIterator[None]:
    yield
    for db in _databases.values():
        if db.schema:
            async with db.engine.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE'))
        await db.engine.dispose()


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_root: Path) -> Database:
    db = await _database(request.param, tmp_root)
    await db.truncate()
    return db


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    from bot.settings import AppSettings, DatabaseSettings

    base = make_settings()
    return base.model_copy(update={
        "database_url": database.url,
        "database": DatabaseSettings(url=database.url, schema_name=database.schema),
        "app": AppSettings(**{**base.app.model_dump(), "data_dir": tmp_path / "data"}),
    })


@pytest.fixture
async def kefu(settings: Settings) -> AsyncIterator[Kefu]:
    app = await build_kefu(settings, clock=lambda: FIXED_NOW)
    yield app
    await app.aclose()


@pytest.fixture(scope="session")
def embedded_nlu() -> Any:
    """The real embedded model, trained (or loaded) once per test session."""
    from bot.cli.nlu_setup import build_embedded

    model = build_embedded(make_settings())
    model.load_or_train()
    return model


@pytest.fixture
async def kefu_nlu(settings: Settings, embedded_nlu: Any) -> AsyncIterator[Kefu]:
    """Like ``kefu``, with free text understood by the real embedded model."""
    app = await build_kefu(settings, nlu=embedded_nlu, clock=lambda: FIXED_NOW)
    yield app
    await app.aclose()
