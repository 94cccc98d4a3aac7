"""Where spooled pushes are kept: files in a local directory, or a Redis hash.

An entry is written (and on disk, fsynced) before the platform is told the push arrived,
and removed only after its turn committed in the database, so a crash between the two
replays it; the dialogue recognises a replay of a stored message by its platform id.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from bot.core.messages import InboundMessage

SUFFIX = ".json"


@dataclass(frozen=True, slots=True)
class SpooledPush:
    """One push waiting for the database; ``key`` sorts in arrival order."""

    key: str
    inbound: InboundMessage
    failures: int = 0


def new_key(inbound: InboundMessage) -> str:
    # Nanoseconds first, so names sort in arrival order; a random tail keeps replicas apart.
    return f"{time.time_ns():020d}-{inbound.channel}-{secrets.token_hex(4)}"


def encode(push: SpooledPush) -> str:
    fields = asdict(push.inbound)
    fields["received_at"] = push.inbound.received_at.isoformat()
    return json.dumps({"inbound": fields, "failures": push.failures}, ensure_ascii=False)


def decode(key: str, data: str | bytes) -> SpooledPush:
    raw: dict[str, Any] = json.loads(data)
    fields = dict(raw["inbound"])
    fields["received_at"] = datetime.fromisoformat(fields["received_at"])
    return SpooledPush(key=key, inbound=InboundMessage(**fields),
                       failures=int(raw.get("failures", 0)))


class Spool(Protocol):
    """A durable queue of pushes, outside the database."""

    name: str

    async def put(self, push: SpooledPush) -> None: ...

    async def remove(self, key: str) -> None: ...

    async def pending(self) -> list[SpooledPush]:
        """Every entry, oldest first; unreadable ones are set aside, not returned."""
        ...

    async def set_aside(self, push: SpooledPush) -> None:
        """Moves an entry that keeps failing for reasons other than the database out of
        the queue (kept for an operator, never silently dropped)."""
        ...

    async def problem(self) -> str | None:
        """Why the spool could not take a push now (readiness), or ``None``."""
        ...

    async def aclose(self) -> None: ...


class FileSpool:
    """One file per push in ``directory``: written to a temporary name, fsynced, renamed."""

    name = "file"

    def __init__(self, directory: Path, *, min_free_bytes: int = 16 * 1024 * 1024) -> None:
        self.directory = directory
        self.aside = directory / "failed"
        self._min_free = min_free_bytes

    async def put(self, push: SpooledPush) -> None:
        await asyncio.to_thread(self._write, push)

    def _write(self, push: SpooledPush) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / f"{push.key}{SUFFIX}"
        temporary = final.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(encode(push))
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(final)
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a power cut
        finally:
            os.close(directory)

    async def remove(self, key: str) -> None:
        await asyncio.to_thread((self.directory / f"{key}{SUFFIX}").unlink, missing_ok=True)

    async def pending(self) -> list[SpooledPush]:
        return await asyncio.to_thread(self._read_all)

    def _read_all(self) -> list[SpooledPush]:
        if not self.directory.is_dir():
            return []
        pushes = []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            try:
                pushes.append(decode(path.stem, path.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError):
                self.aside.mkdir(parents=True, exist_ok=True)
                path.replace(self.aside / path.name)
        return pushes

    async def set_aside(self, push: SpooledPush) -> None:
        def move() -> None:
            self.aside.mkdir(parents=True, exist_ok=True)
            (self.aside / f"{push.key}{SUFFIX}").write_text(encode(push), encoding="utf-8")
            (self.directory / f"{push.key}{SUFFIX}").unlink(missing_ok=True)

        await asyncio.to_thread(move)

    async def problem(self) -> str | None:
        def check() -> str | None:
            self.directory.mkdir(parents=True, exist_ok=True)
            if not os.access(self.directory, os.W_OK):
                return f"spool directory {self.directory} is not writable"
            free = shutil.disk_usage(self.directory).free
            if free < self._min_free:
                return f"spool disk has {free // (1024 * 1024)} MB free"
            return None

        try:
            return await asyncio.to_thread(check)
        except OSError as exc:
            return f"spool directory {self.directory}: {exc.strerror or exc}"

    async def aclose(self) -> None:
        return None


class RedisSpool:
    """A Redis hash of key → push, shared by every replica (``redis.url``)."""

    name = "redis"

    def __init__(self, url: str, *, prefix: str = "kefu:spool") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._hash = prefix
        self._aside = f"{prefix}:failed"

    async def put(self, push: SpooledPush) -> None:
        await self._redis.hset(self._hash, push.key, encode(push))

    async def remove(self, key: str) -> None:
        await self._redis.hdel(self._hash, key)

    async def pending(self) -> list[SpooledPush]:
        entries: dict[bytes, bytes] = await self._redis.hgetall(self._hash)
        pushes = []
        for raw_key, data in sorted(entries.items()):
            key = raw_key.decode()
            try:
                pushes.append(decode(key, data))
            except (ValueError, KeyError, TypeError):
                await self._redis.hset(self._aside, key, data)
                await self._redis.hdel(self._hash, key)
        return pushes

    async def set_aside(self, push: SpooledPush) -> None:
        await self._redis.hset(self._aside, push.key, encode(push))
        await self._redis.hdel(self._hash, push.key)

    async def problem(self) -> str | None:
        try:
            await self._redis.ping()
        except Exception as exc:  # any client error: the spool cannot take pushes
            return f"spool Redis not answering ({exc.__class__.__name__})"
        return None

    async def aclose(self) -> None:
        await self._redis.aclose()  # type: ignore[attr-defined]
