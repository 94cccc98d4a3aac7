"""`kefu keys`: rotate the encryption keys of personal data, and show which keys hold data.
What a command needs is imported when it runs, so that `kefu keys --help` starts fast."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bot.features.security.rotation import RotationReport

app = typer.Typer(help="Encryption keys of personal data: rotate, status.", no_args_is_help=True)


@app.command("rotate")
def rotate(
    batch: Annotated[int, typer.Option("--batch", min=1, max=100_000,
                                       help="Members per transaction")] = 500,
) -> None:
    """Re-encrypt personal data with KEFU_SECRET_KEY (reading KEFU_SECRET_KEY_PREVIOUS).

    Safe while Kefu runs; an interrupted run continues where it stopped when run again."""
    from bot.cli.actor import cli_principal
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.core import audit
    from bot.core.storage.db import transaction
    from bot.features.security.rotation import rotate_keys

    settings = settings_or_exit()
    actor = cli_principal().actor

    async def work() -> RotationReport:
        async with open_kefu(settings) as kefu:
            report = await rotate_keys(kefu.sessions, directory=kefu.directory, batch=batch)
            async with transaction(kefu.sessions) as session:
                await audit.record(session, actor=actor, action=audit.KEYS_ROTATE,
                                   subject=kefu.directory.cipher.key_id,
                                   detail={"rows_changed": report.rows_changed,
                                           "values": report.values_reencrypted,
                                           "messages": report.messages_reencrypted})
            return report

    report = run_async(work)
    typer.echo(f"Scanned {report.rows_scanned} member(s) in {report.batches} batch(es): "
               f"{report.values_reencrypted} value(s) of {report.rows_changed} member(s) "
               "re-encrypted with the current key.")
    typer.echo(f"{report.messages_reencrypted} message text(s) encrypted with the current key.")


@app.command("status")
def status() -> None:
    """How many stored values each key holds; the current key is marked."""
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.core.storage.db import transaction
    from bot.features.security.rotation import key_usage, message_key_usage

    settings = settings_or_exit()

    async def work() -> tuple[str, tuple[str, ...], dict[str, int], dict[str, int]]:
        async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
            usage = await key_usage(session)
            messages = await message_key_usage(session)
            return (kefu.directory.cipher.key_id, kefu.directory.keyring.key_ids, dict(usage),
                    dict(messages))

    current, known, usage, messages = run_async(work)
    typer.echo(f"KEFU_SECRET_KEY is key {current}.")
    _show(usage, current=current, known=known)
    if not usage:
        typer.echo("  no personal data stored yet")
    typer.echo("Message texts:")
    _show(messages, current=current, known=known)


def _show(usage: dict[str, int], *, current: str, known: tuple[str, ...]) -> None:
    from bot.features.security.rotation import PLAIN

    for kid, count in sorted(usage.items()):
        if kid == current:
            note = "current"
        elif kid == PLAIN:
            note = "NOT ENCRYPTED: run `kefu keys rotate`"
        elif kid in known:
            note = "previous key: run `kefu keys rotate`"
        else:
            note = "UNKNOWN key: add its secret to KEFU_SECRET_KEY_PREVIOUS"
        typer.echo(f"  {kid:<10} {count:>8} value(s)  {note}")
