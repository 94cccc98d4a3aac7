"""`kefu agents`: console accounts."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from bot.core.errors import KefuError

if TYPE_CHECKING:
    from bot.settings import Settings

# What a command needs is imported when it runs: `kefu agents --help` starts fast.
app = typer.Typer(help="Agent console accounts.", no_args_is_help=True)


def _password(given: str | None) -> str:
    """The password from the option, a hidden prompt in a terminal, or one line of stdin."""
    if given is not None:
        return given
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


async def add(settings: Settings, *, email: str, name: str, role: str, password: str) -> str:
    from bot.cli.common import open_kefu
    from bot.console.passwords import hash_password
    from bot.core.storage.db import transaction
    from bot.dialogue.pipeline import utc_clock
    from bot.features.cases import agents as agent_store

    async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
        if await agent_store.find_agent(session, email=email) is not None:
            raise KefuError(f"{email} already has an account; `kefu agents list` shows them")
        agent = await agent_store.add_agent(session, email=email, display_name=name, role=role,
                                            password_hash=hash_password(password),
                                            now=utc_clock())
        return agent.email


@app.command("add")
def add_command(
    email: Annotated[str, typer.Argument(help="The agent's email: their sign-in name")],
    role: Annotated[str, typer.Option(help="agent, supervisor or admin")] = "agent",
    name: Annotated[str | None, typer.Option(help="Name shown to colleagues and customers")]
    = None,
    password: Annotated[str | None, typer.Option(
        help="Initial password (default: asked for, or read from stdin)")] = None,
) -> None:
    """Create a console account (the password is stored as an argon2 hash)."""
    from bot.cli.common import fail, run_async, settings_or_exit
    from bot.console.passwords import check_strength
    from bot.features.cases import agents as agent_store

    if role not in agent_store.ROLES:
        raise fail(f"Error: role {role!r} is not one of {', '.join(agent_store.ROLES)}", 2)
    if "@" not in email:
        raise fail(f"Error: {email!r} is not an email address", 2)
    secret = _password(password)
    weak = check_strength(secret)
    if weak:
        raise fail(f"Error: {weak}", 2)
    settings = settings_or_exit()
    created = run_async(lambda: add(settings, email=email, name=name or email.split("@")[0],
                                    role=role, password=secret))
    typer.echo(f"Created {role} {created}; they sign in at /console/login.")


async def listing(settings: Settings) -> list[str]:
    from bot.cli.common import open_kefu
    from bot.core.storage.db import transaction
    from bot.features.cases import agents as agent_store

    async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
        return [f"{a.email}\t{a.role}\t{'active' if a.active else 'deactivated'}\t"
                f"{a.display_name}" for a in await agent_store.all_agents(session)]


@app.command("list")
def list_command() -> None:
    """List console accounts: email, role, status, name."""
    from bot.cli.common import run_async, settings_or_exit

    settings = settings_or_exit()
    for line in run_async(lambda: listing(settings)):
        typer.echo(line)
