"""What every channel declares about its platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.messages import OutboundMessage


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Limits the core must respect when it answers on a channel."""

    max_text_chars: int
    buttons: bool
    contact_request: bool
    # Seconds after the customer's last message during which the bot may still write;
    # None means no platform limit.
    reply_window_seconds: int | None = None


# Ids that become keys in the database: printable, no control characters.
PRINTABLE_ID = r"^[^\x00-\x1f\x7f]+$"


def storable_text(text: str) -> str:
    """What a customer typed, minus NUL, which PostgreSQL's text type cannot hold (and no
    one types on purpose)."""
    return text.replace("\x00", "")


class DeliveryError(Exception):
    """A send failed. Subclasses say what the dispatcher should do about it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientError(DeliveryError):
    """Try again later with backoff (timeouts, 5xx)."""


class RateLimited(DeliveryError):
    """The platform asked to wait ``retry_after`` seconds; nothing to this channel before."""

    def __init__(self, reason: str, *, retry_after: float) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    """Never retry this message. ``undeliverable`` marks the recipient: never send again."""

    def __init__(self, reason: str, *, undeliverable: bool = False,
                 unsubscribed: bool = False) -> None:
        super().__init__(reason)
        self.undeliverable = undeliverable
        self.unsubscribed = unsubscribed


class Sender(Protocol):
    """Delivers outbound messages to one platform."""

    name: str

    async def send(self, message: OutboundMessage) -> str | None:
        """Sends; returns the platform's message id. Raises a DeliveryError subclass."""
        ...

    async def aclose(self) -> None: ...
