"""One inbound message being handled: everything a handler may read and what it answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.channels.base import Capabilities
from bot.channels.registry import ChannelRegistry
from bot.core.i18n import Translator
from bot.core.messages import Button, InboundMessage, OutboundMessage
from bot.core.storage.models import ChannelIdentity, Conversation, Member
from bot.features.members.directory import Directory
from bot.settings import Settings
from nlu.protocol import NluBackend
from nlu.types import Parse


@dataclass(frozen=True, slots=True)
class Services:
    """What lives as long as the process: settings, personal-data access, text, NLU."""

    settings: Settings
    directory: Directory
    translator: Translator
    nlu: NluBackend | None = None
    brand: str = "Kefu"
    # Channels whose replies go out through the outbox, and how long the dispatcher leaves
    # them for the webhook to answer passively first (WeChat).
    outbox_delays: Mapping[str, timedelta] = field(default_factory=dict)
    # The channels by name: what each can do, and how a reply becomes its messages.
    channels: ChannelRegistry = field(default_factory=ChannelRegistry)

    def capabilities(self, channel: str) -> Capabilities:
        return self.channels.capabilities(channel)


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    request_contact: bool = False


@dataclass(frozen=True, slots=True)
class Queued:
    """One platform message of a reply, as the outbox holds it (row ``outbox_id``)."""

    outbox_id: int
    message: OutboundMessage


@dataclass(slots=True)
class Turn:
    """The typed context handed to every handler."""

    inbound: InboundMessage
    text: str
    session: AsyncSession
    services: Services
    now: datetime
    identity: ChannelIdentity
    conversation: Conversation
    member: Member | None = None
    language: str = "zh-Hans"
    intent: str | None = None
    parse: Parse | None = None
    # What followed a /command, e.g. "en" in "/lang en".
    argument: str = ""
    replies: list[Reply] = field(default_factory=list)
    # The replies' platform messages put in the outbox by this turn, in order (channels
    # whose replies go through the outbox only).
    queued: list[Queued] = field(default_factory=list)
    message_id: int | None = None
    duplicate: bool = False
    # Set when the bot asked "did you mean …?" ("clarify") or admitted it did not understand
    # ("fallback"); stored with the inbound message for the KPIs.
    outcome: str | None = None
    # The text understood before the transaction began (in the default time zone): the NLU,
    # perhaps a Rasa server over the network, never runs while the turn holds the writer.
    preparsed: Parse | None = None
    # Columns of ``identity`` this turn set as a matter of course (a reply window opened):
    # written with its "last seen" in one statement at the end of the turn.
    identity_noted: set[str] = field(default_factory=set)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def capabilities(self) -> Capabilities:
        """What the customer's channel can do (buttons, contact request, reply window…)."""
        return self.services.capabilities(self.inbound.channel)

    def outbound(self) -> list[OutboundMessage]:
        """The replies addressed to the customer, as the core hands them to a channel."""
        return [OutboundMessage(channel=self.inbound.channel,
                                recipient_id=self.inbound.sender_id, text=reply.text,
                                buttons=reply.buttons, request_contact=reply.request_contact)
                for reply in self.replies]

    def t(self, key: str, /, **values: Any) -> str:
        return self.services.translator.text(self.language, key, brand=self.services.brand,
                                             **values)

    def say(self, text: str, *, buttons: tuple[Button, ...] = (),
            request_contact: bool = False) -> None:
        self.replies.append(Reply(text, buttons, request_contact))

    def note_identity(self, **values: Any) -> None:
        """Sets columns of the sender's identity now, written at the end of the turn."""
        for key, value in values.items():
            set_committed_value(self.identity, key, value)
        self.identity_noted.update(values)

    def state(self) -> dict[str, Any]:
        """The conversation's dialogue state (a copy; write it back with :meth:`set_state`)."""
        return dict(self.conversation.state or {})

    def set_state(self, state: dict[str, Any]) -> None:
        self.conversation.state = state
