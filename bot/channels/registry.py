"""Platform name → channel, filled by the composition root (bot/app.py), read everywhere
else: a new channel is its own module plus one ``register`` line there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.channels.base import UNREGISTERED, Capabilities, Channel
from bot.core.messages import OutboundMessage


class ChannelRegistry:
    """The channels this process knows, by name."""

    __slots__ = ("_channels",)

    def __init__(self) -> None:
        self._channels: dict[str, Channel[Any]] = {}

    def register(self, channel: Channel[Any]) -> ChannelRegistry:
        if channel.name in self._channels:
            raise ValueError(f"channel {channel.name!r} is registered twice")
        self._channels[channel.name] = channel
        return self

    def get(self, name: str) -> Channel[Any] | None:
        return self._channels.get(name)

    def capabilities(self, name: str) -> Capabilities:
        """What the channel ``name`` can do; a name no module registered gets
        :data:`~bot.channels.base.UNREGISTERED`."""
        channel = self._channels.get(name)
        return channel.capabilities if channel is not None else UNREGISTERED

    def render(self, message: OutboundMessage) -> list[OutboundMessage]:
        """``message`` as its channel sends it (unchanged for an unregistered channel)."""
        channel = self._channels.get(message.channel)
        return channel.render(message) if channel is not None else [message]

    def __iter__(self) -> Iterator[Channel[Any]]:
        return iter(self._channels.values())
