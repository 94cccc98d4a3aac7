"""Sub-commands imported only when they run, so `kefu --help` does not load the whole app.

A sub-command is registered by name with the dotted path of a Typer app or a command function
(``"bot.cli.report_cmd:report"``) and a one-line help; `kefu --help` lists them from that line
alone, and only the sub-command being run (or asked for its own help) is imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

# Typer vendors its own click since 0.29 (typer._click), a private module: the context,
# formatter and command types of the overrides below are therefore written as Any.


@dataclass(frozen=True, slots=True)
class Lazy:
    """``target`` is ``"module:attribute"``: a ``typer.Typer`` (a group of commands) or a
    command function; or a callable returning either (for sub-apps wired up from parts)."""

    name: str
    target: str | Callable[[], Any]
    help: str


def _resolve(target: str | Callable[[], Any]) -> Any:
    if callable(target):
        return target()
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def as_click(name: str, obj: Any) -> Any:
    """A Typer app or a command function as the click command Typer would have made, with
    plain help like the root's (options, defaults and help names come from the root's
    context; the markup mode is each command's own, so it is set on the whole tree)."""
    if isinstance(obj, typer.Typer):
        command: Any = typer.main.get_group(obj)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(obj)
        command = typer.main.get_command(single)
    _plain_help(command)
    return command


def _plain_help(command: Any) -> None:
    command.rich_markup_mode = None
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub)


class LazyGroup(TyperGroup):
    """A group that lists its ``lazy`` sub-commands without importing them. Subclass it with
    ``lazy`` set, and make the app with ``typer.Typer(cls=TheSubclass)``."""

    lazy: ClassVar[dict[str, Lazy]] = {}
    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in self.lazy if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        spec = self.lazy.get(cmd_name)
        if spec is None or cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            # Only the name and the line of help are needed for the list.
            return TyperCommand(cmd_name, help=spec.help, short_help=spec.help)
        command = as_click(cmd_name, _resolve(spec.target))
        if not command.help:
            command.help = spec.help
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
