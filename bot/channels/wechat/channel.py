"""WeChat as a channel: its name, what it can do, and how a reply fits its messages."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from bot.channels.base import Capabilities, fit
from bot.channels.wechat import NAME
from bot.channels.wechat.push import to_inbound
from bot.channels.wechat.windows import WINDOW
from bot.core.messages import InboundMessage, OutboundMessage, numbered_choice

# WeChat takes text messages (passive replies and customer-service messages alike) of at
# most 2,048 bytes of Content; a longer passive reply is dropped without a word.
MAX_TEXT_BYTES = 2048
CAPABILITIES = Capabilities(max_text_chars=MAX_TEXT_BYTES, buttons=False,
                            contact_request=False, reply_window=WINDOW, push=True,
                            passive_reply=True, template_messages=True,
                            max_text_bytes=MAX_TEXT_BYTES)
# Replies wait this long for the webhook to answer passively before the dispatcher may send
# them through the customer-service API (the webhook makes the rest due sooner).
PASSIVE_HOLD = timedelta(seconds=30)
# Customer-service sends per second, all followers together.
SEND_PER_SECOND = 50.0


@dataclass(frozen=True, slots=True)
class WeChatChannel:
    """Parses a verified push's fields; renders replies as WeChat text messages."""

    name: str = NAME
    capabilities: Capabilities = CAPABILITIES

    def parse(self, fields: dict[str, str], /) -> list[InboundMessage]:
        inbound = to_inbound(fields)
        return [] if inbound is None else [inbound]

    def render(self, message: OutboundMessage, /) -> list[OutboundMessage]:
        # The dialogue writes its buttons out as a numbered list (with a header in the
        # customer's language, and the numbers remembered); buttons still attached (a
        # survey, a campaign) become numbered lines here rather than vanish.
        if message.buttons:
            lines = [message.text] + [numbered_choice(number, button.title)
                                      for number, button in enumerate(message.buttons, 1)]
            message = replace(message, text="\n".join(lines), buttons=())
        return fit(message, self.capabilities)


CHANNEL = WeChatChannel()
