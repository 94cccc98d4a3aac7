"""Handlers registered against intents by the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.dialogue.forms import FormRegistry
from bot.dialogue.turn import Turn

Handler = Callable[[Turn], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Route:
    intent: str
    handler: Handler
    # Handlers that read member data are only reached by bound senders; others get told to bind.
    needs_member: bool


class Registry:
    """Maps each intent to the one handler that answers it, and holds the forms."""

    __slots__ = ("_routes", "forms")

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self.forms = FormRegistry()

    def add(self, intent: str, handler: Handler, *, needs_member: bool = False) -> None:
        if intent in self._routes:
            raise ValueError(f"intent {intent!r} already has a handler "
                             f"({self._routes[intent].handler.__name__})")
        self._routes[intent] = Route(intent, handler, needs_member)

    def route(self, intent: str) -> Route | None:
        return self._routes.get(intent)

    def intents(self) -> set[str]:
        return set(self._routes)
