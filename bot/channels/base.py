"""What every channel declares about its platform."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Limits the core must respect when it answers on a channel."""

    max_text_chars: int
    buttons: bool
    contact_request: bool
    # Seconds after the customer's last message during which the bot may still write;
    # None means no platform limit.
    reply_window_seconds: int | None = None
