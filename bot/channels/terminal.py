"""The terminal channel behind `kefu chat`: buttons degrade to a numbered list."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.channels.base import Capabilities
from bot.core.messages import InboundMessage, OutboundMessage

NAME = "console"
CAPABILITIES = Capabilities(max_text_chars=100_000, buttons=False, contact_request=False)


def to_inbound(sender: str, text: str) -> InboundMessage:
    return InboundMessage(channel=NAME, sender_id=sender, text=text,
                          received_at=datetime.now(UTC))


def render(message: OutboundMessage) -> str:
    lines = [message.text]
    for number, button in enumerate(message.buttons, start=1):
        lines.append(f"  [{number}] {button.title}  ({button.payload})")
    return "\n".join(lines)


def choose_button(text: str, offered: list[OutboundMessage]) -> str:
    """Typing a button's number sends its payload, as tapping it would."""
    stripped = text.strip()
    buttons = [button for message in offered for button in message.buttons]
    if stripped.isdigit() and 1 <= int(stripped) <= len(buttons):
        return buttons[int(stripped) - 1].payload
    return text
