"""Composition of the platform channels: senders, the outbox dispatcher, Telegram's webhook
registration or long polling. Started and stopped with the server."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from bot.app import Kefu
from bot.channels import telegram, wechat
from bot.channels.base import Sender
from bot.channels.telegram.channel import parse_update
from bot.channels.wechat.channel import CAPABILITIES as WECHAT_CAPABILITIES
from bot.channels.wechat.channel import SEND_PER_SECOND as WECHAT_PER_SECOND
from bot.channels.wechat.push import WeChatKeys
from bot.channels.wechat.replay import ReplayGuard
from bot.core.errors import ConfigError
from bot.core.failures import FailureLog
from bot.core.storage.db import transaction
from bot.core.storage.members import ensure_identity
from bot.core.storage.outage import database_unavailable
from bot.features.alerts import oncall
from bot.features.alerts.wecom import WeComRobotSender
from bot.outbox.dispatcher import ChannelPolicy, Dispatcher
from bot.outbox.shared_limit import DatabaseLimit, RedisLimit, SharedLimit
from bot.settings import Settings
from bot.spool.store import FileSpool, RedisSpool, Spool
from bot.spool.turns import GuardedTurns

if TYPE_CHECKING:
    # python-telegram-bot (about 20 MB) and wechatpy (about 15 MB) load only where used.
    from bot.channels.telegram.sender import TelegramSender

log = logging.getLogger(__name__)
failures = FailureLog(log)

# Telegram allows ~30 messages/s overall and ~1/s per chat; stay just under both.
TELEGRAM_POLICY = ChannelPolicy(per_second=29.0, per_chat_interval=1.0, window_limit=29,
                                window_seconds=1.0)
WECHAT_POLICY = ChannelPolicy(per_second=WECHAT_PER_SECOND,
                              window=WECHAT_CAPABILITIES.reply_window,
                              template_messages=WECHAT_CAPABILITIES.template_messages)
# A WeCom group robot takes 20 messages a minute.
WECOM_ROBOT_POLICY = ChannelPolicy(per_second=1.0, window_limit=20, window_seconds=60.0)
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
# Tasks that stop doing new work by themselves on shutdown and are waited for.
DRAINED_TASKS = frozenset({"outbox-dispatcher", "spool-replay", "wechat-turn",
                           "wechat-release", "telegram-turn"})


def wechat_keys(settings: Settings) -> WeChatKeys | None:
    """The account's keys, or ``None`` when WeChat is not configured here."""
    if not settings.channels.wechat.enabled or settings.wechat_token is None:
        return None
    aes = [settings.wechat_aes_key.get_secret_value()] if settings.wechat_aes_key else []
    if settings.wechat_aes_key_previous is not None:
        aes.append(settings.wechat_aes_key_previous.get_secret_value())
    return WeChatKeys(token=settings.wechat_token.get_secret_value(),
                      app_id=settings.wechat_app_id or "", aes_keys=tuple(aes))


@dataclass(slots=True)
class Delivery:
    """The running channel machinery of one process."""

    kefu: Kefu
    dispatcher: Dispatcher
    turns: GuardedTurns
    telegram: TelegramSender | None = None
    wechat_keys: WeChatKeys | None = None
    wechat_replay: ReplayGuard | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)

    def spawn(self, coroutine: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def start(self, *, background: bool = True) -> None:
        """Starts the dispatcher and Telegram's polling or webhook registration; without
        ``background`` (benchmarks, some tests) only the webhooks work."""
        if not background:
            return
        self.spawn(self.dispatcher.run(self.stop_event), "outbox-dispatcher")
        self.spawn(self.turns.replay_loop(self.stop_event), "spool-replay")
        if self.telegram is not None:
            settings = self.kefu.settings
            mode = settings.channels.telegram.mode
            if mode == "auto":
                mode = "webhook" if settings.server.public_url else "polling"
            if mode == "webhook":
                self.spawn(self._register_webhook(), "telegram-set-webhook")
            else:
                self.spawn(self._poll_telegram(), "telegram-polling")

    async def stop(self) -> None:
        """The graceful drain (SIGTERM): claim nothing more, give back claimed rows not yet
        being sent, let the sends already out finish and record them, for at most
        ``outbox.drain_seconds``; then cancel what is left."""
        self.stop_event.set()
        self.dispatcher.stop_claiming()
        draining = [t for t in self.tasks if t.get_name() in DRAINED_TASKS]
        if draining:
            _done, late = await asyncio.wait(
                draining, timeout=self.kefu.settings.outbox.drain_seconds)
            if late:
                log.warning("outbox drain did not finish within %.0f s; %d sends still in "
                            "flight are cancelled and will be retried (they may repeat)",
                            self.kefu.settings.outbox.drain_seconds,
                            len(self.dispatcher.in_flight))
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with suppress(asyncio.CancelledError, Exception):
                await task
        await self.dispatcher.aclose()
        if self.wechat_replay is not None:
            await self.wechat_replay.aclose()
        await self.turns.spool.aclose()

    async def _register_webhook(self) -> None:
        """setWebhook with retries: a 429 at start-up must not crash the server."""
        from telegram.error import RetryAfter, TelegramError

        assert self.telegram is not None
        settings = self.kefu.settings
        url = f"{(settings.server.public_url or '').rstrip('/')}/webhooks/telegram"
        secret = (settings.telegram_webhook_secret.get_secret_value()
                  if settings.telegram_webhook_secret else None)
        delay = 1.0
        while not self.stop_event.is_set():
            try:
                await self.telegram.bot.initialize()
                await self.telegram.bot.set_webhook(url=url, secret_token=secret,
                                                    allowed_updates=ALLOWED_UPDATES)
                log.info("Telegram webhook registered at %s", url)
                return
            except RetryAfter as exc:
                delay = _seconds(exc.retry_after)
            except TelegramError as exc:
                log.warning("setWebhook failed (%s); retrying in %.0f s", exc, delay)
                delay = min(delay * 2, 300)
            await asyncio.sleep(delay)

    async def _poll_telegram(self) -> None:
        """getUpdates long polling for setups without a public URL."""
        from telegram.error import Conflict, NetworkError, RetryAfter

        assert self.telegram is not None
        bot = self.telegram.bot
        offset: int | None = None
        delay = 1.0
        while not self.stop_event.is_set():
            try:
                await bot.initialize()
                updates = await bot.get_updates(offset=offset, timeout=25,
                                                allowed_updates=ALLOWED_UPDATES)
                delay = 1.0
            except Conflict:
                await bot.delete_webhook()
                continue
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except NetworkError as exc:
                log.warning("getUpdates failed (%s); retrying in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60)
                continue
            for update in updates:
                offset = update.update_id + 1
                await self.handle_telegram_update(update.to_dict())

    async def handle_telegram_update(self, data: Any) -> None:
        """One Telegram update, from the webhook or from long polling, through the dialogue.

        Raises:
            MalformedUpdate: the body is no Telegram update.
        """
        parsed = parse_update(data)
        kefu = self.kefu
        if parsed.blocked is not None and parsed.chat_id is not None:
            try:
                async with transaction(kefu.sessions) as session:
                    identity = await ensure_identity(session, channel=telegram.NAME,
                                                     external_id=parsed.chat_id,
                                                     now=datetime.now(UTC))
                    identity.undeliverable_reason = ("blocked the bot" if parsed.blocked
                                                     else None)
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                # Not a message: a missed block is learnt again from the next send's 403.
                failures.failure("telegram.member_update", "chat member update not stored",
                                 exc=exc)
            return
        if parsed.inbound is None:
            return
        wait = kefu.settings.spool.telegram_wait_seconds
        # None: kept in the spool, replayed (and answered) when the database is back.
        if await self.turns.run(parsed.inbound, wait=wait) is not None:
            self.dispatcher.wake()
        if parsed.callback_query_id is not None and self.telegram is not None:
            self.spawn(self.telegram.answer_callback(parsed.callback_query_id),
                       "telegram-answer-callback")


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def build_delivery(kefu: Kefu, *, senders: dict[str, Sender] | None = None,
                   clock: Callable[[], datetime] | None = None) -> Delivery:
    """Senders for the configured platforms; must run inside the server's event loop.
    ``clock`` is the dispatcher's (tests replaying another time); the real one by default."""
    settings = kefu.settings
    built: dict[str, Sender] = dict(senders or {})
    telegram_sender: TelegramSender | None = None
    if telegram.NAME in built or telegram.NAME in kefu.services.outbox_delays:
        from bot.channels.telegram.sender import TelegramSender, make_bot

        if telegram.NAME not in built:
            assert settings.telegram_bot_token is not None
            telegram_sender = TelegramSender(make_bot(
                settings.telegram_bot_token.get_secret_value(), settings.telegram_api_base_url))
            built[telegram.NAME] = telegram_sender
        elif isinstance(built[telegram.NAME], TelegramSender):
            telegram_sender = built[telegram.NAME]  # type: ignore[assignment]
    if (wechat.NAME not in built and wechat.NAME in kefu.services.outbox_delays
            and settings.wechat_app_id and settings.wechat_app_secret):
        from bot.channels.wechat.sender import WeChatSender, make_client

        built[wechat.NAME] = WeChatSender(make_client(
            settings.wechat_app_id, settings.wechat_app_secret.get_secret_value(),
            settings.wechat_api_base_url, session=_token_storage(kefu)))
    if settings.alerts.wecom_webhook_url and oncall.WECOM not in built:
        built[oncall.WECOM] = WeComRobotSender(settings.alerts.wecom_webhook_url)
    outbox = settings.outbox
    dispatcher = Dispatcher(sessions=kefu.sessions, senders=built,
                            policies={telegram.NAME: TELEGRAM_POLICY, wechat.NAME: WECHAT_POLICY,
                                      oncall.WECOM: WECOM_ROBOT_POLICY},
                            lease=timedelta(seconds=outbox.lease_seconds),
                            retry_for=timedelta(hours=outbox.retry_hours),
                            max_backoff=outbox.max_backoff_seconds,
                            concurrency=outbox.concurrency,
                            merge=_merged(outbox.merge_backlog),
                            shared=_shared_limits(kefu, built),
                            clock=clock or (lambda: datetime.now(UTC)))
    tasks: set[asyncio.Task[Any]] = set()

    def spawn(coroutine: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task

    turns = GuardedTurns(dialogue=kefu.dialogue, sessions=kefu.sessions,
                         spool=build_spool(settings), spawn=spawn, wake=dispatcher.wake,
                         max_interval=settings.spool.replay_max_interval_seconds)
    keys = wechat_keys(settings)
    replay = None if keys is None else ReplayGuard(
        kefu.sessions, window=settings.channels.wechat.replay_window_seconds,
        redis_url=settings.effective_redis_url)
    return Delivery(kefu=kefu, dispatcher=dispatcher, turns=turns, telegram=telegram_sender,
                    wechat_keys=keys, wechat_replay=replay, tasks=tasks)


def build_spool(settings: Settings) -> Spool:
    """Redis when configured (every replica sees one spool), else a local directory."""
    backend = settings.spool.backend
    url = settings.effective_redis_url
    if backend == "redis" or (backend == "auto" and url):
        if not url:
            raise ConfigError("spool.backend is redis but redis.url is not set "
                              "(KEFU_REDIS__URL)")
        return RedisSpool(url, prefix=settings.spool.redis_key or spool_redis_key(settings))
    return FileSpool(settings.spool.dir or settings.app.data_dir / "spool")


def spool_redis_key(settings: Settings) -> str:
    """The default Redis spool of this database: a push is only ever replayed into the
    database whose webhook took it, even when several deployments share one Redis."""
    where = make_url(settings.effective_database_url)._replace(password=None)
    identity = f"{where.render_as_string(hide_password=False)}|{settings.database.schema_name}"
    return f"kefu:spool:{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def telegram_limit(kefu: Kefu) -> SharedLimit:
    """Telegram's per-bot limit, shared by every process: in Redis when configured."""
    policy = TELEGRAM_POLICY
    token = kefu.settings.telegram_bot_token
    # The limit is per bot: the token's public part (before ':') is the bot's id.
    bot_id = token.get_secret_value().partition(":")[0] if token is not None else "bot"
    url = kefu.settings.effective_redis_url
    if url:
        return RedisLimit(url, key=f"kefu:limit:telegram:{bot_id}", limit=policy.window_limit,
                          seconds=policy.window_seconds)
    return DatabaseLimit(kefu.sessions, key=f"telegram:{bot_id}"[:64],
                         limit=policy.window_limit, seconds=policy.window_seconds)


def _merged(merge_backlog: bool) -> dict[str, int]:
    """Channels whose backlog goes out merged (each send counts against WeChat's reply
    window quota), within one message of the platform."""
    limit = WECHAT_CAPABILITIES.max_text_bytes
    return {wechat.NAME: limit} if merge_backlog and limit is not None else {}


def _shared_limits(kefu: Kefu, senders: dict[str, Sender]) -> dict[str, SharedLimit]:
    return {telegram.NAME: telegram_limit(kefu)} if telegram.NAME in senders else {}


def _token_storage(kefu: Kefu) -> Any:
    url = kefu.settings.effective_redis_url
    if url:
        from redis import Redis

        from bot.channels.wechat.token import RedisLockingStorage

        return RedisLockingStorage(Redis.from_url(url), prefix="kefu:wechatpy")
    from bot.channels.wechat.session import DatabaseSessionStorage

    return DatabaseSessionStorage(kefu.sessions, asyncio.get_running_loop())
