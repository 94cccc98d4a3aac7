"""The `orders` config section: a retailer's order system, when plugged in."""

from __future__ import annotations

from typing import Protocol

from pydantic import Field

from bot.core.settings import Section


class OrdersSettings(Section):
    # "package.module:factory" building an order system to look orders up; without one the
    # bot explains where to find an order and offers a person.
    plugin: str | None = Field(default=None, pattern=r"^[\w.]+:\w+$")


class OrdersConfig(Protocol):
    """What the order-system plug-in reads (the composed Settings is one)."""

    @property
    def orders(self) -> OrdersSettings: ...
