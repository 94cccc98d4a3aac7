"""Which exceptions mean "the database cannot take work now" (it will again later), as
opposed to a bug or bad data that retrying would only repeat."""

from __future__ import annotations

from sqlalchemy import exc as sa

_DOWN = (sa.OperationalError, sa.InterfaceError, sa.TimeoutError, OSError, TimeoutError)


def database_unavailable(error: BaseException) -> bool:
    """Refused or dropped connections, timeouts, a full disk, a pool without connections."""
    if isinstance(error, _DOWN):
        return True
    if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
        return True
    cause = error.__cause__
    return cause is not None and cause is not error and isinstance(cause, _DOWN)
