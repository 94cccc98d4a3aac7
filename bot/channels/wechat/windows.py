"""WeChat's customer-service windows, the one place they are defined.

Within 48 hours of a customer's message, 5 customer-service messages; within a minute of a
menu click, follow or QR scan, 3. Passive replies (the webhook's HTTP answer) are free.
"""

from __future__ import annotations

from datetime import timedelta

from bot.channels.windows import EVENT_WINDOW, MESSAGE_WINDOW, ReplyWindow, WindowRule

WINDOW = ReplyWindow({
    MESSAGE_WINDOW: WindowRule(timedelta(hours=48), 5),
    EVENT_WINDOW: WindowRule(timedelta(minutes=1), 3),
})
