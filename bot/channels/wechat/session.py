"""Where wechatpy keeps the access token so that every Kefu process shares one.

Fetching a new token invalidates the old one, so processes must not each fetch their own:
Redis when configured, otherwise the database's kv_store. wechatpy is synchronous and runs in
worker threads; the database storage hands its queries back to the event loop.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from wechatpy.session import SessionStorage

from bot.channels.wechat.token import Release
from bot.core.storage.models import KeyValue
from bot.core.storage.upsert import insert_if_absent, upsert

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

    def try_lock(self, key: str, *, seconds: float) -> Release | None:
        """A kv_store row as a lock shared by every process (see wechat/token.py)."""
        name, owner = self._key(key), secrets.token_hex(8)
        if not self._run(self._try_lock(name, owner, seconds)):
            return None
        return lambda: self._run(self._unlock(name, owner))

    async def _try_lock(self, key: str, owner: str, seconds: float) -> bool:
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            # A holder that died leaves a lapsed row: it no longer counts.
            await session.execute(delete(KeyValue).where(KeyValue.key == key,
                                                         KeyValue.expires_at <= now))
            return await insert_if_absent(
                session, KeyValue, {"key": key, "value": json.dumps(owner),
                                    "expires_at": now + timedelta(seconds=seconds)},
                conflict=["key"])

    async def _unlock(self, key: str, owner: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(delete(KeyValue).where(KeyValue.key == key,
                                                         KeyValue.value == json.dumps(owner)))

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
