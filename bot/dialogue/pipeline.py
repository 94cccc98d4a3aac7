"""The dialogue: one transaction per inbound message, through a chain of middlewares."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import metrics
from bot.core.correlation import correlated
from bot.core.messages import InboundMessage, OutboundMessage
from bot.core.storage.conversations import open_conversation, write_row
from bot.core.storage.db import transaction
from bot.dialogue.dispatch import dispatch
from bot.dialogue.middlewares import DEFAULT_MIDDLEWARES, Middleware, Next, preparse
from bot.dialogue.registry import Registry
from bot.dialogue.turn import Queued, Services, Turn

Clock = Callable[[], datetime]
# How exact "last seen" and "last message" times are kept.
TIME_PRECISION = timedelta(minutes=1)


def utc_clock() -> datetime:
    return datetime.now(UTC)


def clean_text(text: str, *, limit: int) -> str:
    """Drops control and format characters (keeping line breaks) and cuts to ``limit``."""
    kept = []
    for char in text[: limit * 2]:
        category = unicodedata.category(char)
        if char in "\n\t" or category[0] != "C" or (category == "Cf" and char == "\u200d"):
            kept.append(char)
    return "".join(kept).strip()[:limit]


class Dialogue:
    """Turns an inbound message into the replies to send, storing both atomically."""

    __slots__ = ("_chain", "_clock", "_sessions", "registry", "services")

    def __init__(
        self,
        *,
        services: Services,
        sessions: async_sessionmaker[AsyncSession],
        registry: Registry,
        middlewares: Sequence[Middleware] = DEFAULT_MIDDLEWARES,
        clock: Clock = utc_clock,
    ) -> None:
        self.services = services
        self.registry = registry
        self._sessions = sessions
        self._clock = clock
        self._chain = self._build(middlewares)

    def _build(self, middlewares: Sequence[Middleware]) -> Next:
        async def terminal(turn: Turn) -> None:
            await dispatch(turn, self.registry)

        chain: Next = terminal
        for middleware in reversed(middlewares):
            chain = _bind(middleware, chain)
        return chain

    async def handle(self, inbound: InboundMessage) -> list[OutboundMessage]:
        return (await self.handle_turn(inbound)).replies

    async def handle_turn(self, inbound: InboundMessage) -> TurnResult:
        """Like :meth:`handle`, with what channels need to know about the stored turn."""
        # Inside a web request the request's id is kept; otherwise (polling, the terminal
        # chat) the turn gets its own.
        with correlated():
            return await self._handle_turn(inbound)

    async def _handle_turn(self, inbound: InboundMessage) -> TurnResult:
        started = time.perf_counter()
        now = self._clock()
        text = clean_text(inbound.text, limit=self.services.settings.app.max_message_chars)
        preparsed = await preparse(self.services, inbound, text)
        async with transaction(self._sessions) as session:
            identity, conversation = await open_conversation(
                session, channel=inbound.channel, external_id=inbound.sender_id, now=now)
            turn = Turn(
                inbound=inbound,
                text=text,
                session=session,
                services=self.services,
                now=now,
                identity=identity,
                conversation=conversation,
                language=identity.language or self.services.settings.app.default_language,
                preparsed=preparsed,
            )
            await self._chain(turn)
            # One UPDATE per row at most, at the end: what the turn noted, what handlers
            # changed, and the times, which are kept to the minute (a customer's messages
            # seconds apart do not rewrite them each time).
            await write_row(session, identity, {
                **_when_stale("last_seen_at", identity.last_seen_at, now),
                **{key: getattr(identity, key) for key in turn.identity_noted}})
            await write_row(session, conversation,
                            _when_stale("last_message_at", conversation.last_message_at, now))
        metrics.TURN_SECONDS.labels(inbound.channel).observe(time.perf_counter() - started)
        return TurnResult(replies=turn.outbound(), queued=tuple(turn.queued),
                          message_id=turn.message_id, duplicate=turn.duplicate)


@dataclass(frozen=True, slots=True)
class TurnResult:
    replies: list[OutboundMessage]
    # The platform messages this turn put in the outbox, in order (the passive reply is
    # taken from these, not read back from the database).
    queued: tuple[Queued, ...]
    # The stored inbound message (its replies' outbox rows hang off it).
    message_id: int | None
    # The message was a redelivery: ``replies`` are the ones stored the first time.
    duplicate: bool


def _when_stale(column: str, stored: datetime | None, now: datetime) -> dict[str, datetime]:
    """``{column: now}`` when the time stored is a minute or more older than ``now``."""
    return {column: now} if stored is None or now - stored >= TIME_PRECISION else {}


def _bind(middleware: Middleware, following: Next) -> Next:
    async def step(turn: Turn) -> None:
        await middleware(turn, following)

    return step
