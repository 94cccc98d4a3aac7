"""The plug-in interface for an order system: look an order up by its number."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Protocol

from bot.errors import ConfigError
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


@lru_cache(maxsize=4)
def _factory(path: str) -> object:
    module_name, _, attribute = path.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"Config 'orders.plugin' names {path!r}, which cannot be imported: "
                          f"{exc}") from exc


def order_system(settings: Settings) -> OrderSystem | None:
    """The configured order system, or ``None`` when none is configured.

    Raises:
        ConfigError: ``orders.plugin`` cannot be imported or is not callable.
    """
    if settings.orders.plugin is None:
        return None
    factory = _factory(settings.orders.plugin)
    if not callable(factory):
        raise ConfigError(f"Config 'orders.plugin': {settings.orders.plugin!r} is not callable")
    system: OrderSystem = factory(settings)
    return system
