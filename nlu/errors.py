"""Expected NLU failures; nlu/ stands alone, so it has its own small hierarchy."""

from __future__ import annotations

from pathlib import Path


class NluError(Exception):
    """Base of every expected NLU failure."""


class NluDataError(NluError):
    """Training data cannot be read; the message names the file, the line and the problem."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class NluModelError(NluError):
    """A trained model artifact is unreadable or does not match this version of Kefu."""
