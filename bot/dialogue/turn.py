"""One inbound message being handled: everything a handler may read and what it answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import Translator
from bot.core.messages import Button, InboundMessage
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
    # Channels that cannot show buttons: the dialogue turns buttons into numbered choices.
    no_buttons: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    request_contact: bool = False


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
    message_id: int | None = None
    duplicate: bool = False
    # Set when the bot asked "did you mean …?" ("clarify") or admitted it did not understand
    # ("fallback"); stored with the inbound message for the KPIs.
    outcome: str | None = None

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def t(self, key: str, /, **values: Any) -> str:
        return self.services.translator.text(self.language, key, brand=self.services.brand,
                                             **values)

    def say(self, text: str, *, buttons: tuple[Button, ...] = (),
            request_contact: bool = False) -> None:
        self.replies.append(Reply(text, buttons, request_contact))

    def state(self) -> dict[str, Any]:
        """The conversation's dialogue state (a copy; write it back with :meth:`set_state`)."""
        return dict(self.conversation.state or {})

    def set_state(self, state: dict[str, Any]) -> None:
        self.conversation.state = state
