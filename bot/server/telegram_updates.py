"""One Telegram update, from the webhook or from long polling, through the dialogue."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.channels import telegram
from bot.core.failures import FailureLog
from bot.core.storage.db import transaction
from bot.core.storage.members import ensure_identity
from bot.core.storage.outage import database_unavailable
from bot.dialogue.pipeline import utc_clock

if TYPE_CHECKING:
    from bot.delivery import Delivery

log = logging.getLogger(__name__)
failures = FailureLog(log)


async def handle_update(delivery: Delivery, data: Any) -> None:
    """Raises :class:`telegram.MalformedUpdate` for a body that is no update."""
    parsed = telegram.parse_update(data)
    kefu = delivery.kefu
    if parsed.blocked is not None and parsed.chat_id is not None:
        try:
            async with transaction(kefu.sessions) as session:
                identity = await ensure_identity(session, channel=telegram.NAME,
                                                 external_id=parsed.chat_id, now=utc_clock())
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
    if await delivery.turns.run(parsed.inbound, wait=wait) is not None:
        delivery.dispatcher.wake()
    if parsed.callback_query_id is not None and delivery.telegram is not None:
        delivery.spawn(delivery.telegram.answer_callback(parsed.callback_query_id),
                       "telegram-answer-callback")
