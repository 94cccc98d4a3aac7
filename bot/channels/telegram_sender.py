"""Sends through the Bot API with python-telegram-bot, mapping its errors to Kefu's."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.channels import telegram
from bot.channels.base import PermanentError, RateLimited, TransientError
from bot.core.messages import OutboundMessage

log = logging.getLogger(__name__)


def bot_base_url(api_base_url: str) -> str:
    """TELEGRAM_API_BASE_URL may name the server (https://api.telegram.org) or the bot path
    prefix python-telegram-bot wants (…/bot)."""
    base = api_base_url.rstrip("/")
    return base if base.endswith("/bot") else base + "/bot"


def make_bot(token: str, api_base_url: str, *, timeout: float = 10.0) -> Bot:
    request = HTTPXRequest(connection_pool_size=16, connect_timeout=timeout,
                           read_timeout=timeout, write_timeout=timeout, pool_timeout=timeout)
    return Bot(token, base_url=bot_base_url(api_base_url), request=request)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """One Bot per process; the dispatcher decides when to call :meth:`send`."""

    name = telegram.NAME

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._ready = False

    async def _ensure(self) -> None:
        if not self._ready:
            await self.bot.initialize()
            self._ready = True

    async def send(self, message: OutboundMessage) -> str | None:
        await self._ensure()
        last_id: str | None = None
        for params in telegram.send_parameters(message):
            markup = params.get("reply_markup")
            reply_markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
            if markup is not None and "inline_keyboard" in markup:
                reply_markup = InlineKeyboardMarkup.de_json(markup, self.bot)
            elif markup is not None:
                reply_markup = ReplyKeyboardMarkup.de_json(markup, self.bot)
            try:
                sent = await self.bot.send_message(chat_id=params["chat_id"], text=params["text"],
                                                   reply_markup=reply_markup)
            except RetryAfter as exc:
                raise RateLimited("telegram 429", retry_after=_seconds(exc.retry_after)) from exc
            except Forbidden as exc:
                raise PermanentError(f"telegram: {exc.message}", undeliverable=True) from exc
            except BadRequest as exc:
                lowered = exc.message.lower()
                gone = "chat not found" in lowered or "user is deactivated" in lowered
                raise PermanentError(f"telegram: {exc.message}", undeliverable=gone) from exc
            except (TimedOut, NetworkError) as exc:
                raise TransientError(f"telegram: {exc.__class__.__name__}: {exc}") from exc
            last_id = str(sent.message_id)
        return last_id

    async def answer_callback(self, callback_query_id: str) -> None:
        """Stops the button's spinner; best effort, a failure only leaves it spinning."""
        try:
            await self._ensure()
            await self.bot.answer_callback_query(callback_query_id)
        except (NetworkError, BadRequest) as exc:
            log.info("answerCallbackQuery failed: %s", exc.__class__.__name__)

    async def aclose(self) -> None:
        if self._ready:
            await self.bot.shutdown()
            self._ready = False
