"""The two value types the core sees: an inbound and an outbound message."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Payloads of platform events (not typed by the customer).
UNSUBSCRIBED_EVENT = "event:unsubscribed"


@dataclass(frozen=True, slots=True)
class Button:
    """A choice offered to the customer; ``payload`` is what comes back when it is chosen."""

    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """What a customer sent, normalised by a channel.

    ``message_id`` is the platform's id for the message (or the sender-side id of a web
    request); together with ``channel`` it recognises redeliveries.
    """

    channel: str
    sender_id: str
    text: str
    received_at: datetime
    message_id: str | None = None
    language_hint: str | None = None
    # A phone number the platform vouches for (Telegram shared contact of the sender).
    verified_phone: str | None = None
    # A machine-readable note from the channel: "foreign_contact" (someone else's contact
    # was shared), "voice_unrecognised", "unsupported:image" …
    payload: str | None = None
    # Platforms with reply windows: this message opens a "message" or "event" window.
    opens_window: str | None = None


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """What Kefu answers: text, optional buttons, optional request for the contact."""

    channel: str
    recipient_id: str
    text: str
    buttons: tuple[Button, ...] = field(default=())
    request_contact: bool = False


def numbered_choice(number: int, title: str) -> str:
    """One line of a numbered list of choices, for channels that cannot show buttons (the
    reply is the number, or the words); a title that already leads with its number
    (CSAT's "1 很不满意") is not numbered twice."""
    return title if title.startswith(f"{number} ") else f"{number}. {title}"


def with_numbered_choices(text: str, buttons: tuple[Button, ...], header: str) -> str:
    """``text`` followed by ``header`` and the buttons as a numbered list."""
    if not buttons:
        return text
    lines = [text, header]
    lines += [numbered_choice(number, b.title) for number, b in enumerate(buttons, start=1)]
    return "\n".join(lines)
