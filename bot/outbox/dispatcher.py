"""Delivers the outbox: claims due rows with a lease, sends within the platform's limits,
and records each outcome. Several dispatchers (processes) may share one database."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.channels.base import PermanentError, RateLimited, Sender, TransientError
from bot.correlation import KEY, accepted, correlated
from bot.outbox import store
from bot.outbox.ratelimit import SlidingWindow, TokenBucket
from bot.outbox.windows import refusal
from bot.storage.models import ChannelIdentity, OutboxMessage

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """How fast one channel may send: overall, and to one chat."""

    per_second: float
    per_chat_interval: float = 0.0
    reply_window: bool = False
    # A hard cap of ``window_limit`` sends in any ``window_seconds`` (the platform's rule,
    # with a margin for network jitter); 0 leaves pacing alone.
    window_limit: int = 0
    window_seconds: float = 1.0


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(1 << 16):04x}"


def backoff(attempts: int) -> timedelta:
    """2, 4, 8 … seconds, at most 10 minutes, with jitter so retries do not stampede."""
    seconds = min(2 ** attempts, 600)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


class Dispatcher:
    """One process's delivery loop. ``run_once`` is the unit tests and benchmarks drive."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[str, Sender],
        policies: Mapping[str, ChannelPolicy],
        clock: Clock = lambda: datetime.now(UTC),
        owner: str | None = None,
        batch: int = 50,
        lease: timedelta = timedelta(seconds=60),
        max_attempts: int = 8,
        concurrency: int = 8,
    ) -> None:
        self._sessions = sessions
        self.senders = dict(senders)
        self._policies = policies
        self._clock = clock
        self.owner = owner or default_owner()
        self._batch = batch
        self._lease = lease
        self._max_attempts = max_attempts
        self._buckets = {name: TokenBucket(policy.per_second)
                         for name, policy in policies.items() if name in senders}
        self._windows = {name: SlidingWindow(policy.window_limit, policy.window_seconds)
                         for name, policy in policies.items()
                         if name in senders and policy.window_limit > 0}
        self._last_to_chat: dict[tuple[str, str], float] = {}
        self._paused_until: dict[str, datetime] = {}
        self._limit = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self.sent = 0

    def wake(self) -> None:
        """New rows are waiting: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, poll_seconds: float = 1.0) -> None:
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:  # the loop must outlive a database hiccup; the next pass retries
                log.exception("outbox pass failed")
                handled = 0
            if handled:
                continue
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()),
                       asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=poll_seconds,
                               return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def run_once(self) -> int:
        """Claims one batch and delivers it; returns how many rows were handled."""
        now = self._clock()
        channels = [name for name in self.senders
                    if self._paused_until.get(name, now) <= now]
        if not channels:
            return 0
        async with self._sessions() as session, session.begin():
            rows = await store.claim(session, owner=self.owner, now=now, lease=self._lease,
                                     limit=self._batch, channels=channels)
            identities = await _identities(session, [r.identity_id for r in rows])
        await asyncio.gather(*(self._deliver(row, identities.get(row.identity_id or -1))
                               for row in rows))
        return len(rows)

    async def _deliver(self, row: OutboxMessage, identity: ChannelIdentity | None) -> None:
        # Logged under the id of the message or request that caused the send.
        with correlated(accepted(str((row.payload or {}).get(KEY) or "")) or None):
            await self._deliver_correlated(row, identity)

    async def _deliver_correlated(self, row: OutboxMessage,
                                  identity: ChannelIdentity | None) -> None:
        async with self._limit:
            now = self._clock()
            blocked = self._refuse(row, identity, now)
            if blocked is not None:
                await self._finish(row, failed=blocked)
                return
            paused = self._paused_until.get(row.channel)
            if paused is not None and paused > now:
                await self._finish(row, retry_at=paused, reason="channel paused (429)")
                return
            await self._pace(row)
            sender = self.senders[row.channel]
            message = store.from_payload(row.channel, row.recipient_id, row.payload)
            try:
                platform_id = await sender.send(message)
            except RateLimited as exc:
                until = self._clock() + timedelta(seconds=exc.retry_after)
                self._paused_until[row.channel] = until
                log.warning("%s asked to wait %.0f s; parking row %d", row.channel,
                            exc.retry_after, row.id)
                await self._finish(row, retry_at=until, reason=exc.reason, refund=True)
            except PermanentError as exc:
                await self._finish(row, failed=exc.reason, undeliverable=exc.undeliverable,
                                   unsubscribed=exc.unsubscribed)
            except TransientError as exc:
                await self._retry_or_fail(row, exc.reason)
            except Exception as exc:  # a sender bug must not lose the row: retry it later
                log.exception("sender %s crashed on row %d", row.channel, row.id)
                await self._retry_or_fail(row, f"{exc.__class__.__name__}: {exc}")
            else:
                self.sent += 1
                await self._finish(row, sent_id=platform_id or "")

    def _refuse(self, row: OutboxMessage, identity: ChannelIdentity | None,
                now: datetime) -> str | None:
        if identity is None:
            return None
        if identity.undeliverable_reason:
            return f"recipient undeliverable: {identity.undeliverable_reason}"
        if identity.unsubscribed_at is not None:
            return "recipient unsubscribed"
        policy = self._policies.get(row.channel)
        if policy is not None and policy.reply_window:
            return refusal(identity, now)
        return None

    async def _pace(self, row: OutboxMessage) -> None:
        """Waits for the channel's overall rate and the per-chat interval."""
        policy = self._policies.get(row.channel)
        loop = asyncio.get_running_loop()
        if policy is not None and policy.per_chat_interval > 0:
            key = (row.channel, row.recipient_id)
            last = self._last_to_chat.get(key)
            if last is not None:
                wait = policy.per_chat_interval - (loop.time() - last)
                if wait > 0:
                    await asyncio.sleep(wait)
        bucket = self._buckets.get(row.channel)
        if bucket is not None:
            await bucket.acquire()
        window = self._windows.get(row.channel)
        if window is not None:
            await window.acquire()
        self._last_to_chat[(row.channel, row.recipient_id)] = loop.time()

    async def _retry_or_fail(self, row: OutboxMessage, reason: str) -> None:
        if row.attempts >= self._max_attempts:
            await self._finish(row, failed=f"gave up after {row.attempts} attempts: {reason}")
        else:
            await self._finish(row, retry_at=self._clock() + backoff(row.attempts),
                               reason=reason)

    async def _finish(
        self,
        row: OutboxMessage,
        *,
        sent_id: str | None = None,
        failed: str | None = None,
        retry_at: datetime | None = None,
        reason: str = "",
        undeliverable: bool = False,
        unsubscribed: bool = False,
        refund: bool = False,
    ) -> None:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            if sent_id is not None:
                await store.mark_sent(session, outbox_id=row.id, now=now,
                                      platform_message_id=sent_id or None)
                metrics.OUTBOX_SENT.labels(row.channel, "api").inc()
                policy = self._policies.get(row.channel)
                if policy is not None and policy.reply_window and row.identity_id:
                    identity = await session.get(ChannelIdentity, row.identity_id)
                    if identity is not None:
                        identity.window_sent += 1
            elif failed is not None:
                await store.mark_failed(session, outbox_id=row.id, reason=failed)
                metrics.OUTBOX_FAILED.labels(row.channel).inc()
                if (undeliverable or unsubscribed) and row.identity_id:
                    identity = await session.get(ChannelIdentity, row.identity_id)
                    if identity is not None and undeliverable:
                        identity.undeliverable_reason = failed[:200]
                    if identity is not None and unsubscribed:
                        identity.unsubscribed_at = now
            elif retry_at is not None:
                metrics.OUTBOX_RETRIED.labels(row.channel,
                                              "rate_limited" if refund else "error").inc()
                await store.reschedule(session, outbox_id=row.id, at=retry_at, reason=reason,
                                       refund_attempt=refund)

    async def aclose(self) -> None:
        for sender in self.senders.values():
            await sender.aclose()


async def _identities(session: AsyncSession,
                      ids: list[int | None]) -> dict[int, ChannelIdentity]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    result = await session.execute(select(ChannelIdentity).where(ChannelIdentity.id.in_(wanted)))
    return {identity.id: identity for identity in result.scalars()}
