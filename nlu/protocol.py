"""The narrow interface every NLU backend offers to the dialogue."""

from __future__ import annotations

from typing import Protocol

from nlu.types import Parse


class NluBackend(Protocol):
    """Turns a text into a :class:`~nlu.types.Parse`. Never raises on bad text."""

    async def parse(self, text: str, *, timezone: str = "Asia/Shanghai") -> Parse: ...
