"""`python -m bot` is the `kefu` command."""

from bot.cli.main import run

run()
