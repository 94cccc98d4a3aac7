"""`kefu --help` and every subcommand's help read like a well-kept CLI's: no type labels on
flags, defaults shown, and serve says where the console is."""

from typing import Any

import typer.main
from typer.testing import CliRunner

from bot.cli.main import app

runner = CliRunner()


def _paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    if hasattr(command, "list_commands"):  # a group, whose sub-commands may load lazily
        context = command.context_class(command)
        for name in command.list_commands(context):
            paths += _paths(command.get_command(context, name), (*prefix, name))
    return paths


def test_no_help_labels_a_flag_with_a_type() -> None:
    paths = _paths(typer.main.get_command(app))
    assert ("serve",) in paths and ("members", "show") in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "<bool>" not in result.output, path
        assert "-h, --help" in result.output, path


def test_serve_help_names_the_console_and_its_defaults() -> None:
    result = runner.invoke(app, ["serve", "-h"])
    assert result.exit_code == 0
    output = " ".join(result.output.split())
    assert "agent console at /console" in output
    assert "--host ADDRESS" in output and "127.0.0.1" in output
    assert "--port PORT" in output and "8000" in output
    assert "--demo Seed demo members" in output


def test_defaults_are_shown() -> None:
    result = runner.invoke(app, ["chat", "--help"])
    assert "[default: console-user]" in " ".join(result.output.split())
