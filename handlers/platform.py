"""What platform events (not customer messages) change: an unfollow stops all messages."""

from __future__ import annotations

from sqlalchemy import update

from bot.core.storage.models import OutboxMessage
from bot.dialogue.turn import Turn
from bot.features.privacy.unsubscribe import erase_on_unsubscribe
from bot.outbox.store import FAILED, PENDING


async def stop_messages(turn: Turn) -> None:
    """The customer unfollowed: nothing more is sent, not even what was already queued."""
    turn.identity.unsubscribed_at = turn.now
    await turn.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.identity_id == turn.identity.id, OutboxMessage.status == PENDING)
        .values(status=FAILED, last_error="recipient unsubscribed"))
    # WeChat's rules expect an unfollower's data to be deleted; the operator decides
    # (privacy.erase_on_wechat_unsubscribe).
    await erase_on_unsubscribe(turn.session, turn.identity, turn.settings, now=turn.now)
