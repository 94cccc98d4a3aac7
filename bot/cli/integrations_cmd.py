"""`kefu integrations`: API keys for tills and shop systems posting purchases and refunds.
What a command needs is imported when it runs, so that `--help` starts fast."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bot.features.loyalty.integrations import NewKey

app = typer.Typer(help="API keys of tills and shops (POST /api/v1/purchases, /refunds).",
                  no_args_is_help=True)


@app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="What the key is for, e.g. 'Jing'an tills'")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the key as JSON")] = False,
) -> None:
    """Create a key; its secret is printed this once and only a hash of it is kept."""
    from bot.cli.actor import cli_principal
    from bot.cli.common import fail, open_kefu, run_async, settings_or_exit
    from bot.core.storage.db import transaction
    from bot.dialogue.pipeline import utc_clock
    from bot.features.loyalty.integrations import add_key

    name = name.strip()
    if not name or len(name) > 100:
        raise fail("Error: NAME must be 1 to 100 characters", 2)
    settings = settings_or_exit()
    actor = cli_principal().actor

    async def work() -> NewKey:
        async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
            return await add_key(session, name=name, actor=actor, now=utc_clock())

    key = run_async(work)
    if as_json:
        typer.echo(json.dumps({"key_id": key.key_id, "secret": key.secret, "name": key.name}))
        return
    typer.echo(f"key_id: {key.key_id}\nsecret: {key.secret}\n"
               "Store the secret in the till's configuration now: Kefu cannot show it again.")


@app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list")] = False,
) -> None:
    """Keys: id, name, created, last used, and whether revoked (never the secrets)."""
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.core.storage import receipts
    from bot.core.storage.db import transaction

    settings = settings_or_exit()

    async def work() -> list[dict[str, str | None]]:
        async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
            return [{"key_id": i.key_id, "name": i.name, "created_at": i.created_at.isoformat(),
                     "last_used_at": i.last_used_at.isoformat() if i.last_used_at else None,
                     "revoked_at": i.revoked_at.isoformat() if i.revoked_at else None}
                    for i in await receipts.all_integrations(session)]

    keys = run_async(work)
    if as_json:
        typer.echo(json.dumps(keys, ensure_ascii=False))
        return
    for key in keys:
        state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "active"
        typer.echo(f"{key['key_id']}\t{state}\tlast used {key['last_used_at'] or 'never'}\t"
                   f"{key['name']}")


@app.command("revoke")
def revoke_command(key_id: Annotated[str, typer.Argument(help="The key's id (kfk_…)")]) -> None:
    """Revoke a key: its requests are refused (401) from now on."""
    from bot.cli.actor import cli_principal
    from bot.cli.common import fail, open_kefu, run_async, settings_or_exit
    from bot.core.storage.db import transaction
    from bot.dialogue.pipeline import utc_clock
    from bot.features.loyalty.integrations import revoke_key

    settings = settings_or_exit()
    actor = cli_principal().actor

    async def work() -> bool:
        async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
            return await revoke_key(session, key_id=key_id, actor=actor, now=utc_clock())

    if not run_async(work):
        raise fail(f"Error: no active key {key_id!r}; `kefu integrations list` shows them")
    typer.echo(f"Revoked {key_id}.")
