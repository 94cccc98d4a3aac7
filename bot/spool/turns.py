"""Turns that survive the database: a push the database cannot take within the platform's
window goes to the spool before the platform is answered, and is replayed when the
database is back, its replies then sent through the platform's API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import metrics
from bot.core.failures import FailureLog
from bot.core.messages import InboundMessage
from bot.core.storage.db import transaction
from bot.core.storage.outage import database_unavailable
from bot.dialogue.pipeline import Dialogue, TurnResult
from bot.outbox import store as outbox
from bot.spool.store import Spool, SpooledPush, new_key

log = logging.getLogger(__name__)
failures = FailureLog(log)
# A push whose turn fails this often for a reason other than the database is set aside.
MAX_FAILURES = 5
Spawn = Callable[[Any, str], "asyncio.Task[Any]"]


class GuardedTurns:
    """Runs turns for the webhooks and replays the spool in the background."""

    def __init__(self, *, dialogue: Dialogue, sessions: async_sessionmaker[AsyncSession],
                 spool: Spool, spawn: Spawn, wake: Callable[[], None],
                 max_interval: float = 10.0) -> None:
        self._dialogue = dialogue
        self._sessions = sessions
        self.spool = spool
        self._spawn = spawn
        self._wake_dispatcher = wake
        self._max_interval = max_interval
        # Spooled pushes whose first run is still going on in this process (key → sender):
        # neither they nor their sender's later pushes are replayed meanwhile.
        self._live: dict[str, tuple[str, str]] = {}
        # Senders with pushes in the spool: their next pushes queue behind, in order.
        self._waiting: set[tuple[str, str]] = set()
        self._replay_now = asyncio.Event()
        self._last_pass_ok = True
        self.replayed = 0

    async def run(self, inbound: InboundMessage, *, wait: float) -> TurnResult | None:
        """The turn's result within ``wait`` seconds, or ``None`` when the push is kept
        in the spool instead (answer the platform "received"; the reply follows through
        its API). Raises only when neither the database nor the spool can keep it."""
        if (inbound.channel, inbound.sender_id) in self._waiting:
            await self._keep(inbound, "earlier messages of this sender wait in the spool")
            return None
        task = self._spawn(self._dialogue.handle_turn(inbound), f"{inbound.channel}-turn")
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout=wait)
        except TimeoutError:
            push = await self._keep(inbound, f"the turn took over {wait:.1f} s")
            self._live[push.key] = (inbound.channel, inbound.sender_id)
            task.add_done_callback(lambda done: self._settle(push, done))
            return None
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            failures.failure("spool.turn", "database could not take a %s push; kept in the "
                             "spool", inbound.channel, exc=exc)
            await self._keep(inbound, None)
            return None

    async def _keep(self, inbound: InboundMessage, why: str | None) -> SpooledPush:
        push = SpooledPush(new_key(inbound), inbound)
        await self.spool.put(push)
        self._waiting.add((inbound.channel, inbound.sender_id))
        metrics.SPOOL_SPOOLED.labels(inbound.channel).inc()
        if why is not None:
            log.info("%s push kept in the spool: %s", inbound.channel, why)
        return push

    def _settle(self, push: SpooledPush, done: asyncio.Task[TurnResult]) -> None:
        """The first run of a spooled push ended after the platform was answered."""
        self._live.pop(push.key, None)
        if done.cancelled():
            log.warning("%s turn cancelled after the platform was answered; it stays in the "
                        "spool and is replayed", push.inbound.channel)
            return
        error = done.exception()
        if error is not None:
            failures.failure("spool.late_turn", "%s turn failed after the platform was "
                             "answered; it stays in the spool and is replayed",
                             push.inbound.channel, exc=error)
            self._replay_now.set()
            return
        self._spawn(self._finish(push, done.result()), "spool-settle")

    async def _finish(self, push: SpooledPush, result: TurnResult, *,
                      release: bool = True) -> None:
        """The turn is stored: the entry can go, and its replies are due at once."""
        await self.spool.remove(push.key)
        if release:
            await self._release_all([result])
        self._forget_sender_if_done(push.inbound)

    async def _release_all(self, results: list[TurnResult]) -> None:
        try:
            for result in results:
                await self._release_replies(result)
        except Exception as exc:  # the dispatcher still sends them after the passive hold
            failures.failure("spool.release", "could not make replies due now", exc=exc)

    def _forget_sender_if_done(self, inbound: InboundMessage) -> None:
        # Re-learnt from the spool on the next replay pass if more of theirs wait there.
        self._waiting.discard((inbound.channel, inbound.sender_id))
        self._replay_now.set()

    async def _release_replies(self, result: TurnResult) -> None:
        if result.message_id is None or result.duplicate:
            return
        async with transaction(self._sessions) as session:
            await outbox.make_replies_due(session, message_id=result.message_id,
                                          now=datetime.now(UTC))
        self._wake_dispatcher()

    # --- replay -------------------------------------------------------------------------

    def wake(self) -> None:
        self._replay_now.set()

    async def replay_loop(self, stop: asyncio.Event) -> None:
        """Replays the spool oldest first; while the database is down, waits with a
        backoff that grows to ``max_interval``."""
        delay = 0.5
        while not stop.is_set():
            try:
                outcome = await self.replay_once(stop)
            except Exception as exc:  # the spool itself failed (Redis down): try later
                failures.failure("spool.read", "could not read the spool", exc=exc)
                outcome = False
            if outcome is True and not self._live:
                delay = 0.5
                continue  # look again at once: pushes may have arrived meanwhile
            delay = min(delay * 2, self._max_interval) if outcome is False else 0.5
            self._replay_now.clear()
            waiters = [asyncio.ensure_future(self._replay_now.wait()),
                       asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=delay if outcome is False else 5.0,
                               return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def replay_once(self, stop: asyncio.Event | None = None) -> bool | None:
        """One pass: ``None`` when the spool is empty, ``True`` when everything pending
        was replayed, ``False`` when the database is still down."""
        pushes = await self.spool.pending()
        metrics.SPOOL_PENDING.set(len(pushes))
        self._waiting = {(p.inbound.channel, p.inbound.sender_id) for p in pushes}
        if not pushes:
            return None
        busy = set(self._live.values())
        done: list[TurnResult] = []
        try:
            await self._replay(pushes, busy, done, stop)
        finally:
            # All at once: a follower's backlog is then merged into as few sends as can be.
            await self._release_all(done)
        if not self._last_pass_ok:
            return False
        remaining = await self.spool.pending()
        metrics.SPOOL_PENDING.set(len(remaining))
        self._waiting = {(p.inbound.channel, p.inbound.sender_id) for p in remaining}
        if len(pushes) > len(remaining):
            log.info("replayed %d spooled pushes; %d left", len(pushes) - len(remaining),
                     len(remaining))
        return True

    async def _replay(self, pushes: list[SpooledPush], busy: set[tuple[str, str]],
                      done: list[TurnResult], stop: asyncio.Event | None) -> None:
        self._last_pass_ok = True
        for push in pushes:
            if stop is not None and stop.is_set():
                return
            if (push.inbound.channel, push.inbound.sender_id) in busy:
                continue
            try:
                result = await self._dialogue.handle_turn(push.inbound)
            except Exception as exc:
                if database_unavailable(exc):
                    failures.failure("spool.replay", "database still unavailable; %d pushes "
                                     "wait in the spool", len(pushes), exc=exc)
                    self._last_pass_ok = False
                    return
                await self._failed(push, exc)
                continue
            await self._finish(push, result, release=False)
            done.append(result)
            self.replayed += 1
            metrics.SPOOL_REPLAYED.labels(push.inbound.channel).inc()

    async def _failed(self, push: SpooledPush, error: Exception) -> None:
        again = SpooledPush(push.key, push.inbound, push.failures + 1)
        if again.failures >= MAX_FAILURES:
            failures.failure("spool.set_aside", "%s push failed %d times; set aside in the "
                             "spool's failed/ for an operator", push.inbound.channel,
                             again.failures, exc=error, level=logging.ERROR)
            await self.spool.set_aside(again)
        else:
            failures.failure("spool.turn_error", "replay of a %s push failed (%d of %d)",
                             push.inbound.channel, again.failures, MAX_FAILURES, exc=error,
                             level=logging.ERROR)
            await self.spool.put(again)
