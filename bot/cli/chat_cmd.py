"""`kefu chat`: talk to the bot in the terminal, or script it through stdin. The app and
the model are imported when it runs, so that `kefu chat --help` starts fast."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bot.core.messages import OutboundMessage


def chat(
    sender: Annotated[str, typer.Option("--sender", metavar="ID",
                                        help="Sender id on the console channel")]
    = "console-user",
    lang: Annotated[str | None, typer.Option("--lang", metavar="zh-Hans|zh-Hant|en",
                                             help="Answer in this language")] = None,
) -> None:
    """Chat with the bot. Without a terminal, reads one message per line and prints replies."""
    from bot.channels import terminal
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.cli.nlu_loading import load_nlu
    from bot.core.i18n import normalize_language

    settings = settings_or_exit()
    language = normalize_language(lang) if lang else None
    if lang and language is None:
        raise typer.BadParameter("choose zh-Hans, zh-Hant or en", param_hint="--lang")
    interactive = sys.stdin.isatty()

    async def work() -> None:
        async with open_kefu(settings, nlu=load_nlu(settings)) as kefu:
            if language is not None:
                await kefu.dialogue.handle(terminal.to_inbound(sender, f"/lang {language}"))
            offered: list[OutboundMessage] = []
            if interactive:
                typer.echo("Kefu chat — type a message, /help for commands, Ctrl-D to leave.")
            while True:
                if interactive:
                    try:
                        line = await asyncio.to_thread(input, "you> ")
                    except EOFError:
                        typer.echo()
                        return
                    line = terminal.choose_button(line, offered)
                else:
                    raw = await asyncio.to_thread(sys.stdin.readline)
                    if not raw:
                        return
                    line = raw.rstrip("\r\n")
                offered = await kefu.dialogue.handle(terminal.to_inbound(sender, line))
                for reply in offered:
                    prefix = "kefu> " if interactive else ""
                    typer.echo(prefix + terminal.render(reply))
                if not interactive:
                    sys.stdout.flush()

    run_async(work)
