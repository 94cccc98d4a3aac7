"""One Telegram update, from the webhook or from long polling, through the dialogue."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.channels import telegram
from bot.dialogue.pipeline import utc_clock
from bot.storage.db import transaction
from bot.storage.members import ensure_identity

if TYPE_CHECKING:
    from bot.delivery import Delivery

log = logging.getLogger(__name__)


async def handle_update(delivery: Delivery, data: Any) -> None:
    """Raises :class:`telegram.MalformedUpdate` for a body that is no update."""
    parsed = telegram.parse_update(data)
    kefu = delivery.kefu
    if parsed.blocked is not None and parsed.chat_id is not None:
        async with transaction(kefu.sessions) as session:
            identity = await ensure_identity(session, channel=telegram.NAME,
                                             external_id=parsed.chat_id, now=utc_clock())
            identity.undeliverable_reason = ("blocked the bot" if parsed.blocked else None)
        return
    if parsed.inbound is None:
        return
    await kefu.dialogue.handle_turn(parsed.inbound)
    delivery.dispatcher.wake()
    if parsed.callback_query_id is not None and delivery.telegram is not None:
        delivery.spawn(delivery.telegram.answer_callback(parsed.callback_query_id),
                       "telegram-answer-callback")
