"""The channel protocol: what every platform adapter declares, parses, renders and sends."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar, runtime_checkable

from bot.channels.text import split_text
from bot.channels.windows import ReplyWindow
from bot.core.messages import InboundMessage, OutboundMessage


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform can do, read by the dialogue, cases and scheduler instead of the
    platform's name (a new channel then changes nothing outside its own module)."""

    max_text_chars: int
    buttons: bool
    contact_request: bool
    # The platform limits when the bot may write after the customer's last action; ``None``
    # means no platform limit (see bot/channels/windows.py).
    reply_window: ReplyWindow | None = None
    # Kefu can write first, outside a webhook's answer (through the outbox and a Sender).
    push: bool = False
    # The webhook's HTTP answer can carry the reply (WeChat's passive reply).
    passive_reply: bool = False
    # Template messages can reach the customer outside the reply window.
    template_messages: bool = False
    # A platform that counts bytes (UTF-8) rather than characters; ``None``: characters only.
    max_text_bytes: int | None = None


# What Kefu assumes of a channel no module registered (tests' made-up names): buttons shown,
# no limits that would change the reply.
UNREGISTERED = Capabilities(max_text_chars=100_000, buttons=True, contact_request=False)

Request = TypeVar("Request", contravariant=True)


class Channel(Protocol[Request]):
    """One platform: its name (also its config key and webhook path), its capabilities, how
    a platform request becomes inbound messages and how a reply becomes platform messages.
    Sending is a :class:`Sender`, built only where the platform is configured."""

    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    def parse(self, request: Request, /) -> list[InboundMessage]:
        """The messages a platform request carries (none for pushes that need no answer)."""
        ...

    def render(self, message: OutboundMessage, /) -> list[OutboundMessage]:
        """The platform messages one reply becomes: each fits the platform's limits, in
        order, buttons on the last."""
        ...


def fit(message: OutboundMessage, capabilities: Capabilities) -> list[OutboundMessage]:
    """``message`` cut into parts within the character (and byte) limits; the buttons and
    the contact request go with the last part, where the customer answers."""
    parts = split_text(message.text, capabilities.max_text_chars)
    if capabilities.max_text_bytes is not None:
        parts = [piece for part in parts
                 for piece in split_text(part, capabilities.max_text_bytes, measure="bytes")]
    if len(parts) == 1:
        return [message]
    last = len(parts) - 1
    return [replace(message, text=part, buttons=message.buttons if n == last else (),
                    request_contact=message.request_contact and n == last)
            for n, part in enumerate(parts)]


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
    """Delivers outbound messages to one platform (the channel protocol's "send")."""

    name: str

    async def send(self, message: OutboundMessage) -> str | None:
        """Sends; returns the platform's message id. Raises a DeliveryError subclass."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class TemplateSender(Protocol):
    """A sender that can also send a platform template message (a channel whose capabilities
    say ``template_messages``): the way to reach a customer outside the reply window."""

    async def send_template(self, recipient_id: str, template: dict[str, Any]) -> str | None:
        """Sends the template; returns the platform's message id."""
        ...
