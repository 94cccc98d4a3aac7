"""Who runs a CLI command, as the audit log records it: "cli:<login name>"."""

from __future__ import annotations

import getpass

from bot.features.security.permissions import Principal, Role


def cli_principal() -> Principal:
    """The operator at the shell: whoever can run `kefu` on the server holds the database
    and the keys anyway, so the CLI acts as the operator role; it is audited by login name."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers), no USER variable
        user = "unknown"
    return Principal(actor=f"cli:{user}", role=Role.OPERATOR)
