"""Composition of the platform channels: senders, the outbox dispatcher, Telegram's webhook
registration or long polling. Started and stopped with the server."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram.error import Conflict, NetworkError, RetryAfter, TelegramError

from bot.app import Kefu
from bot.channels import telegram, wechat
from bot.channels.base import Sender
from bot.channels.telegram_sender import TelegramSender, make_bot
from bot.channels.wechat import WeChatKeys
from bot.channels.wechat_sender import WeChatSender, make_client
from bot.channels.wechat_session import DatabaseSessionStorage
from bot.outbox.dispatcher import ChannelPolicy, Dispatcher
from bot.outbox.shared_limit import DatabaseLimit, RedisLimit, SharedLimit
from bot.settings import Settings

log = logging.getLogger(__name__)

# Telegram allows ~30 messages/s overall and ~1/s per chat; stay just under both.
TELEGRAM_POLICY = ChannelPolicy(per_second=29.0, per_chat_interval=1.0, window_limit=29,
                                window_seconds=1.0)
WECHAT_POLICY = ChannelPolicy(per_second=50.0, reply_window=True)
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


def wechat_keys(settings: Settings) -> WeChatKeys | None:
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
    telegram: TelegramSender | None = None
    wechat_keys: WeChatKeys | None = None
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
        self.stop_event.set()
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with suppress(asyncio.CancelledError, Exception):
                await task
        await self.dispatcher.aclose()

    async def _register_webhook(self) -> None:
        """setWebhook with retries: a 429 at start-up must not crash the server."""
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
        from bot.server.telegram_updates import handle_update

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
                await handle_update(self, update.to_dict())


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def build_delivery(kefu: Kefu, *, senders: dict[str, Sender] | None = None) -> Delivery:
    """Senders for the configured platforms; must run inside the server's event loop."""
    settings = kefu.settings
    built: dict[str, Sender] = dict(senders or {})
    telegram_sender: TelegramSender | None = None
    if telegram.NAME not in built and telegram.NAME in kefu.services.outbox_delays:
        assert settings.telegram_bot_token is not None
        telegram_sender = TelegramSender(make_bot(settings.telegram_bot_token.get_secret_value(),
                                                  settings.telegram_api_base_url))
        built[telegram.NAME] = telegram_sender
    elif isinstance(built.get(telegram.NAME), TelegramSender):
        telegram_sender = built[telegram.NAME]  # type: ignore[assignment]
    if (wechat.NAME not in built and wechat.NAME in kefu.services.outbox_delays
            and settings.wechat_app_id and settings.wechat_app_secret):
        built[wechat.NAME] = WeChatSender(make_client(
            settings.wechat_app_id, settings.wechat_app_secret.get_secret_value(),
            settings.wechat_api_base_url, session=_token_storage(kefu)))
    dispatcher = Dispatcher(sessions=kefu.sessions, senders=built,
                            policies={telegram.NAME: TELEGRAM_POLICY, wechat.NAME: WECHAT_POLICY},
                            shared=_shared_limits(kefu, built))
    return Delivery(kefu=kefu, dispatcher=dispatcher, telegram=telegram_sender,
                    wechat_keys=wechat_keys(settings))


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


def _shared_limits(kefu: Kefu, senders: dict[str, Sender]) -> dict[str, SharedLimit]:
    return {telegram.NAME: telegram_limit(kefu)} if telegram.NAME in senders else {}


def _token_storage(kefu: Kefu) -> Any:
    url = kefu.settings.redis.url
    if url:
        from redis import Redis
        from wechatpy.session.redisstorage import RedisStorage

        return RedisStorage(Redis.from_url(url), prefix="kefu:wechatpy")
    return DatabaseSessionStorage(kefu.sessions, asyncio.get_running_loop())
