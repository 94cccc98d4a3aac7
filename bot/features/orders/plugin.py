"""The plug-in interface for an order system: look an order up by its number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.plugins import plugin_factory
from bot.settings import Settings

# Status codes an order system reports; the bot has a sentence for each in every language.
STATUSES = ("placed", "paid", "packed", "shipped", "delivered", "cancelled", "returned")


@dataclass(frozen=True, slots=True)
class OrderInfo:
    order_id: str
    status: str  # one of STATUSES
    updated_at: datetime | None = None
    carrier: str | None = None
    tracking_no: str | None = None


class OrderSystem(Protocol):
    """What a retailer's order system offers Kefu.

    Implement it in any module and name its factory in config (``orders.plugin:
    "mypackage.orders:build"``); the factory takes the :class:`~bot.settings.Settings`.
    """

    async def find_order(self, *, order_id: str, member_no: str) -> OrderInfo | None:
        """The order if it exists and belongs to the member, else ``None``."""
        ...


def order_system(settings: Settings) -> OrderSystem | None:
    """The configured order system, or ``None`` when none is configured.

    Raises:
        ConfigError: ``orders.plugin`` cannot be imported or is not callable.
    """
    if settings.orders.plugin is None:
        return None
    factory = plugin_factory("orders.plugin", settings.orders.plugin)
    system: OrderSystem = factory(settings)
    return system
