"""Reply windows: platforms that let a bot write only for a while after the customer acts.

A channel declares its rules as a :class:`ReplyWindow` in its capabilities (WeChat's in
bot/channels/wechat/windows.py); the dialogue opens windows, the dispatcher and the agent
desk ask :func:`refusal` before they write. Passive replies (a webhook's answer) are free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.storage.models import ChannelIdentity

# The kinds of customer action that open a window (InboundMessage.opens_window).
MESSAGE_WINDOW, EVENT_WINDOW = "message", "event"


@dataclass(frozen=True, slots=True)
class WindowRule:
    length: timedelta
    quota: int


@dataclass(frozen=True, slots=True)
class ReplyWindow:
    """A platform's window rules, by the kind of action that opened the window."""

    rules: Mapping[str, WindowRule]


def message_window_open(window: ReplyWindow, identity: ChannelIdentity,
                        now: datetime) -> bool:
    rule = window.rules.get(MESSAGE_WINDOW)
    return (rule is not None and identity.window_kind == MESSAGE_WINDOW
            and identity.window_opened_at is not None
            and now - identity.window_opened_at < rule.length
            and identity.window_sent < rule.quota)


def refusal(window: ReplyWindow, identity: ChannelIdentity, now: datetime) -> str | None:
    """Why a message may not be sent now, or ``None`` when the window allows it."""
    rule = window.rules.get(identity.window_kind or "")
    if rule is None or identity.window_opened_at is None:
        return "no reply window: the customer has not written yet"
    if now - identity.window_opened_at >= rule.length:
        return "reply window closed: the customer last wrote too long ago"
    if identity.window_sent >= rule.quota:
        return "reply window quota used up"
    return None


def closes_at(window: ReplyWindow, identity: ChannelIdentity) -> datetime | None:
    rule = window.rules.get(identity.window_kind or "")
    if rule is None or identity.window_opened_at is None:
        return None
    return identity.window_opened_at + rule.length
