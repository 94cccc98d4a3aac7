"""Where wechatpy keeps the access token so that every Kefu process shares one.

Fetching a new token invalidates the old one, so processes must not each fetch their own:
Redis when configured, otherwise the database's kv_store. wechatpy is synchronous and runs in
worker threads; the database storage hands its queries back to the event loop.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from wechatpy.session import SessionStorage

from bot.core.storage.models import KeyValue
from bot.core.storage.upsert import upsert

_TIMEOUT = 10.0


class DatabaseSessionStorage(SessionStorage):  # type: ignore[misc]
    """wechatpy session storage on kv_store, usable from threads of a running loop."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 loop: asyncio.AbstractEventLoop, prefix: str = "wechatpy") -> None:
        self._sessions = sessions
        self._loop = loop
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self._prefix}:{key}"

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(_TIMEOUT)

    def get(self, key: str, default: Any = None) -> Any:
        return self._run(self._get(self._key(key), default))

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        self._run(self._set(self._key(key), value, ttl))

    def delete(self, key: str) -> None:
        self._run(self._delete(self._key(key)))

    async def _get(self, key: str, default: Any) -> Any:
        async with self._sessions() as session:
            row = (await session.execute(select(KeyValue).where(KeyValue.key == key))).scalar()
        if row is None or (row.expires_at is not None and row.expires_at <= datetime.now(UTC)):
            return default
        return json.loads(row.value)

    async def _set(self, key: str, value: Any, ttl: int | None) -> None:
        expires = datetime.now(UTC) + timedelta(seconds=ttl) if ttl else None
        async with self._sessions() as session, session.begin():
            await upsert(session, KeyValue, {"key": key, "value": json.dumps(value),
                                             "expires_at": expires}, conflict=["key"])

    async def _delete(self, key: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(delete(KeyValue).where(KeyValue.key == key))
