"""Reply windows: platforms that let a bot write only for a while after the customer acts.

WeChat: within 48 hours of a customer's message, 5 customer-service messages; within a minute
of a menu click, follow or QR scan, 3. Passive replies (the webhook's HTTP answer) are free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.storage.models import ChannelIdentity

MESSAGE_WINDOW, EVENT_WINDOW = "message", "event"


@dataclass(frozen=True, slots=True)
class WindowRule:
    length: timedelta
    quota: int


RULES = {
    MESSAGE_WINDOW: WindowRule(timedelta(hours=48), 5),
    EVENT_WINDOW: WindowRule(timedelta(minutes=1), 3),
}


def message_window_open(identity: ChannelIdentity, now: datetime) -> bool:
    return (identity.window_kind == MESSAGE_WINDOW and identity.window_opened_at is not None
            and now - identity.window_opened_at < RULES[MESSAGE_WINDOW].length
            and identity.window_sent < RULES[MESSAGE_WINDOW].quota)


def refusal(identity: ChannelIdentity, now: datetime) -> str | None:
    """Why a message may not be sent now, or ``None`` when the window allows it."""
    rule = RULES.get(identity.window_kind or "")
    if rule is None or identity.window_opened_at is None:
        return "no reply window: the customer has not written yet"
    if now - identity.window_opened_at >= rule.length:
        return "reply window closed: the customer last wrote too long ago"
    if identity.window_sent >= rule.quota:
        return "reply window quota used up"
    return None


def closes_at(identity: ChannelIdentity) -> datetime | None:
    rule = RULES.get(identity.window_kind or "")
    if rule is None or identity.window_opened_at is None:
        return None
    return identity.window_opened_at + rule.length
