"""Kefu's small hierarchy of expected failures; messages name the value and the fix."""


class KefuError(Exception):
    """Base of every expected Kefu failure."""


class ConfigError(KefuError):
    """The configuration is invalid; the message names the key and how to fix it."""


class NotFoundError(KefuError):
    """A named thing (member, file, identity) does not exist."""


class ImportValidationError(KefuError):
    """An import file has invalid rows; nothing was imported."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} invalid row(s); nothing was imported")


class PointsError(KefuError):
    """A points operation cannot be done (not enough points, unknown reward)."""
