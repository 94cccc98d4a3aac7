"""Delivers the outbox: claims due rows with a lease, sends within the platform's limits,
and records each outcome. Several dispatchers (processes) may share one database."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import PermanentError, RateLimited, Sender, TransientError
from bot.core import metrics
from bot.core.correlation import KEY, accepted, correlated
from bot.core.failures import FailureLog
from bot.core.messages import OutboundMessage
from bot.core.storage.models import ChannelIdentity, OutboxMessage
from bot.core.storage.outage import database_unavailable
from bot.outbox import store
from bot.outbox.ratelimit import SlidingWindow, TokenBucket
from bot.outbox.shared_limit import SharedLimit
from bot.outbox.windows import refusal

log = logging.getLogger(__name__)
failures = FailureLog(log)
Clock = Callable[[], datetime]
# A merged backlog stays within one WeChat customer-service text (2,048 bytes).
MERGE_MAX_BYTES = 2000
MERGE_SEPARATOR = "\n\n"


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
    """``host:pid:random``: the host and pid let a restarted process recognise the leases
    of its dead predecessor (see :meth:`Dispatcher.reclaim_abandoned`)."""
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(1 << 16):04x}"


def backoff(attempts: int, *, cap: float = 600.0) -> timedelta:
    """2, 4, 8 … seconds, at most ``cap``, with jitter so retries do not stampede."""
    seconds = min(2.0 ** min(attempts, 40), cap)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def _process_gone(owner: str) -> bool:
    """Whether the process named in a lease owner on this host no longer runs."""
    try:
        pid = int(owner.rsplit(":", 2)[1])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return True  # our own pid under another owner: a predecessor (a container's pid 1)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


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
        lease: timedelta = timedelta(seconds=30),
        max_attempts: int | None = None,
        retry_for: timedelta = timedelta(hours=24),
        max_backoff: float = 600.0,
        concurrency: int = 8,
        merge: frozenset[str] = frozenset(),
        shared: Mapping[str, SharedLimit] | None = None,
    ) -> None:
        self._sessions = sessions
        self.senders = dict(senders)
        self._policies = policies
        self._clock = clock
        self.owner = owner or default_owner()
        self._batch = batch
        self._lease = lease
        self._max_attempts = max_attempts
        self._retry_for = retry_for
        self._max_backoff = max_backoff
        self._merge = merge
        self._buckets = {name: TokenBucket(policy.per_second)
                         for name, policy in policies.items() if name in senders}
        self._windows = {name: SlidingWindow(policy.window_limit, policy.window_seconds)
                         for name, policy in policies.items()
                         if name in senders and policy.window_limit > 0}
        self._last_to_chat: dict[tuple[str, str], float] = {}
        self._paused_until: dict[str, datetime] = {}
        self._limit = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        # Claimed rows whose outcome is not recorded yet (their leases are renewed), and
        # those of them whose send request is out: what a crash may repeat.
        self._held: set[int] = set()
        self.in_flight: set[int] = set()
        self._stopping = False
        self.sent = 0
        # Limits all processes obey together (bot/outbox/shared_limit.py), per channel.
        self._shared = dict(shared or {})

    def wake(self) -> None:
        """New rows are waiting: look now instead of at the next poll."""
        self._wake.set()

    def stop_claiming(self) -> None:
        """The drain's first step: claim nothing more; rows claimed but not yet being sent
        are given back; sends already out finish and are recorded."""
        self._stopping = True
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def run(self, stop: asyncio.Event, *, poll_seconds: float = 1.0) -> None:
        try:
            await self.reclaim_abandoned()
        except Exception as exc:  # the database may be down at start; leases then expire
            failures.failure("outbox.reclaim", "could not reclaim leases at start", exc=exc)
        renewer = asyncio.create_task(self._renew_leases(), name="outbox-lease-renewal")
        try:
            await self._loop(stop, poll_seconds)
        finally:
            renewer.cancel()
            with suppress(asyncio.CancelledError):
                await renewer

    async def _loop(self, stop: asyncio.Event, poll_seconds: float) -> None:
        while not stop.is_set() and not self._stopping:
            try:
                handled = await self.run_once()
            except Exception as exc:  # the loop must outlive a database outage
                failures.failure("outbox.pass", "outbox pass failed", exc=exc)
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
        if self._stopping:
            return 0
        now = self._clock()
        channels = [name for name in self.senders
                    if self._paused_until.get(name, now) <= now]
        if not channels:
            return 0
        async with self._sessions() as session, session.begin():
            rows = await store.claim(session, owner=self.owner, now=now, lease=self._lease,
                                     limit=self._batch, channels=channels)
            identities = await _identities(session, [r.identity_id for r in rows])
        self._held.update(row.id for row in rows)
        try:
            await asyncio.gather(*(self._deliver(row, identities.get(row.identity_id or -1))
                                   for row in rows))
        finally:
            self._held.difference_update(row.id for row in rows)
        return len(rows)

    async def reclaim_abandoned(self) -> int:
        """Frees the leases that dead processes on this host still hold, so a restart
        resends what was in flight at once instead of after the lease runs out."""
        prefix = self.owner.rsplit(":", 2)[0] + ":"
        async with self._sessions() as session, session.begin():
            leased = await store.leases_of(session, owner_prefix=prefix, now=self._clock())
            dead: dict[str, list[int]] = {}
            for row_id, owner in leased:
                if owner != self.owner and _process_gone(owner):
                    dead.setdefault(owner, []).append(row_id)
            freed = 0
            for owner, ids in dead.items():
                freed += await store.free_leases(session, ids=ids, owner=owner)
        if freed:
            log.warning("reclaimed %d outbox rows leased by a process that died (%s); they "
                        "are sent again: a crash repeats at most what was in flight",
                        freed, ", ".join(sorted(dead)))
        return freed

    async def _renew_leases(self) -> None:
        """Keeps the leases of held rows running while they wait or send, so the lease can
        be short: rows of a crashed process are free again within one lease."""
        interval = max(self._lease.total_seconds() / 3, 0.5)
        while True:
            await asyncio.sleep(interval)
            ids = sorted(self._held)
            if not ids:
                continue
            try:
                async with self._sessions() as session, session.begin():
                    await store.renew(session, ids=ids, owner=self.owner,
                                      until=self._clock() + self._lease)
            except Exception as exc:  # the next renewal tries again
                failures.failure("outbox.renew", "could not renew %d leases", len(ids),
                                 exc=exc)

    async def _deliver(self, row: OutboxMessage, identity: ChannelIdentity | None) -> None:
        # Logged under the id of the message or request that caused the send.
        with correlated(accepted(str((row.payload or {}).get(KEY) or "")) or None):
            await self._deliver_correlated(row, identity)

    async def _deliver_correlated(self, row: OutboxMessage,
                                  identity: ChannelIdentity | None) -> None:
        async with self._limit:
            if self._stopping:
                await self._give_back(row)
                return
            now = self._clock()
            blocked = self._refuse(row, identity, now)
            # Outside a reply window a row that carries a template (proactive WeChat sends)
            # goes as a template message instead; a blocked recipient stays blocked.
            template = row.payload.get("template") if blocked is not None else None
            sender = self.senders[row.channel]
            as_template = (template is not None and identity is not None
                           and not identity.undeliverable_reason
                           and identity.unsubscribed_at is None
                           and hasattr(sender, "send_template"))
            if blocked is not None and not as_template:
                await self._finish(row, failed=blocked)
                return
            paused = self._paused_until.get(row.channel)
            if paused is not None and paused > now:
                await self._finish(row, retry_at=paused, reason="channel paused (429)")
                return
            await self._pace(row)
            if self._stopping:
                await self._give_back(row)
                return
            message = store.from_payload(row.channel, row.recipient_id, row.payload)
            merged: list[int] = []
            if row.channel in self._merge:
                message, merged = await self._merge_backlog(row, message)
            self.in_flight.add(row.id)
            try:
                if as_template:
                    platform_id = await sender.send_template(  # type: ignore[attr-defined]
                        row.recipient_id, template)
                else:
                    platform_id = await sender.send(message)
            except RateLimited as exc:
                until = self._clock() + timedelta(seconds=exc.retry_after)
                self._paused_until[row.channel] = until
                failures.failure(f"outbox.{row.channel}.rate_limited",
                                 "%s asked to wait %.0f s; parking row %d", row.channel,
                                 exc.retry_after, row.id)
                await self._finish(row, retry_at=until, reason=exc.reason, refund=True,
                                   merged=merged)
            except PermanentError as exc:
                await self._finish(row, failed=exc.reason, undeliverable=exc.undeliverable,
                                   unsubscribed=exc.unsubscribed, merged=merged)
            except TransientError as exc:
                await self._retry_or_fail(row, exc.reason, merged=merged)
            except Exception as exc:  # a sender bug must not lose the row: retry it later
                failures.failure(f"outbox.{row.channel}.crash", "sender %s crashed on row %d",
                                 row.channel, row.id, exc=exc, level=logging.ERROR)
                await self._retry_or_fail(row, f"{exc.__class__.__name__}: {exc}",
                                          merged=merged)
            else:
                self.sent += 1
                await self._finish(row, sent_id=platform_id or "", merged=merged)
            finally:
                self.in_flight.discard(row.id)
                self._held.difference_update(merged)

    async def _give_back(self, row: OutboxMessage) -> None:
        async with self._sessions() as session, session.begin():
            await store.release(session, ids=[row.id], owner=self.owner)

    async def _merge_backlog(self, row: OutboxMessage, message: OutboundMessage
                             ) -> tuple[OutboundMessage, list[int]]:
        """Joins the recipient's later due rows to this one, in order, within one message,
        so a backlog costs as few of the reply window's sends as possible."""
        if message.buttons or message.request_contact:
            return message, []
        now = self._clock()
        async with self._sessions() as session, session.begin():
            later = await store.backlog_after(session, row, now=now, limit=20)
            taken = await store.update_pending(session, later, lease_owner=self.owner,
                                               lease_until=now + self._lease,
                                               attempts=OutboxMessage.attempts + 1)
            parts, size = [message.text], len(message.text.encode())
            merged: list[int] = []
            surplus: list[int] = []
            for extra in taken:
                text = str(extra.payload.get("text", ""))
                added = len(text.encode()) + len(MERGE_SEPARATOR.encode())
                if surplus or extra.payload.get("buttons") or size + added > MERGE_MAX_BYTES:
                    surplus.append(extra.id)
                    continue
                parts.append(text)
                size += added
                merged.append(extra.id)
            await store.release(session, ids=surplus, owner=self.owner)
        self._held.update(merged)
        if not merged:
            return message, []
        log.info("merged %d queued messages to one %s recipient into one send",
                 len(merged) + 1, row.channel)
        return replace(message, text=MERGE_SEPARATOR.join(parts)), merged

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
        shared = self._shared.get(row.channel)
        if shared is not None:
            await shared.acquire()
        self._last_to_chat[(row.channel, row.recipient_id)] = loop.time()

    async def _retry_or_fail(self, row: OutboxMessage, reason: str, *,
                             merged: list[int] | None = None) -> None:
        """Retries with backoff while the reply is still useful (``retry_for`` after it was
        queued, or ``max_attempts``); gives up, loudly, after that."""
        now = self._clock()
        deadline = row.created_at + self._retry_for
        exhausted = self._max_attempts is not None and row.attempts >= self._max_attempts
        if exhausted or now >= deadline:
            failures.failure(f"outbox.{row.channel}.gave_up",
                             "gave up on %s row %d after %d attempts over %s: %s",
                             row.channel, row.id, row.attempts,
                             _age(now - row.created_at), reason, level=logging.ERROR)
            metrics.OUTBOX_GAVE_UP.labels(row.channel, "retries_exhausted").inc()
            await self._finish(row, failed=f"gave up after {row.attempts} attempts: {reason}",
                               merged=merged, counted=True)
            return
        retry_at = min(now + backoff(row.attempts, cap=self._max_backoff), deadline)
        failures.failure(f"outbox.{row.channel}.transient",
                         "send of %s row %d failed (attempt %d), retrying in %.0f s: %s",
                         row.channel, row.id, row.attempts,
                         (retry_at - now).total_seconds(), reason)
        await self._finish(row, retry_at=retry_at, reason=reason, merged=merged)

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
        merged: list[int] | None = None,
        counted: bool = False,
    ) -> None:
        """Records an outcome. A database blip right after a send must not make it a
        repeat: the record is retried for a while (the lease is renewed meanwhile)."""
        for pause in (0.5, 1.0, 2.0, 4.0, 8.0, None):
            try:
                await self._record(row, sent_id=sent_id, failed=failed, retry_at=retry_at,
                                   reason=reason, undeliverable=undeliverable,
                                   unsubscribed=unsubscribed, refund=refund, merged=merged,
                                   counted=counted)
                return
            except Exception as exc:
                if pause is None or not database_unavailable(exc):
                    raise
                failures.failure("outbox.record", "could not record the outcome of %s row "
                                 "%d; retrying in %.1f s", row.channel, row.id, pause,
                                 exc=exc)
                await asyncio.sleep(pause)

    async def _record(
        self,
        row: OutboxMessage,
        *,
        sent_id: str | None,
        failed: str | None,
        retry_at: datetime | None,
        reason: str,
        undeliverable: bool,
        unsubscribed: bool,
        refund: bool,
        merged: list[int] | None,
        counted: bool,
    ) -> None:
        now = self._clock()
        extra = merged or []
        async with self._sessions() as session, session.begin():
            if sent_id is not None:
                for outbox_id in [row.id, *extra]:
                    await store.mark_sent(session, outbox_id=outbox_id, now=now,
                                          platform_message_id=sent_id or None)
                metrics.OUTBOX_SENT.labels(row.channel, "api").inc(1 + len(extra))
                policy = self._policies.get(row.channel)
                if policy is not None and policy.reply_window and row.identity_id:
                    identity = await session.get(ChannelIdentity, row.identity_id)
                    if identity is not None:
                        identity.window_sent += 1
            elif failed is not None:
                # Merged rows are not lost with the head: they go back for their own try.
                await store.release(session, ids=extra, owner=self.owner, refund_attempt=True)
                await store.mark_failed(session, outbox_id=row.id, reason=failed)
                metrics.OUTBOX_FAILED.labels(row.channel).inc()
                if not counted:
                    kind = ("undeliverable" if undeliverable or unsubscribed
                            else "window" if "window" in failed else "permanent")
                    metrics.OUTBOX_GAVE_UP.labels(row.channel, kind).inc()
                    failures.failure(f"outbox.{row.channel}.{kind}",
                                     "%s row %d not sent: %s", row.channel, row.id, failed)
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
                await store.release(session, ids=extra, owner=self.owner, refund_attempt=True)
        self._held.difference_update(extra)

    async def aclose(self) -> None:
        for sender in self.senders.values():
            await sender.aclose()
        for limit in self._shared.values():
            await limit.aclose()


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds} s"


async def _identities(session: AsyncSession,
                      ids: list[int | None]) -> dict[int, ChannelIdentity]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    result = await session.execute(select(ChannelIdentity).where(ChannelIdentity.id.in_(wanted)))
    return {identity.id: identity for identity in result.scalars()}
