"""`kefu --help` lists every sub-command without importing them; each loads when used."""

from __future__ import annotations

import subprocess
import sys
from typing import ClassVar

import pytest
import typer
from typer.testing import CliRunner

from bot.cli.lazy import Lazy, LazyGroup
from bot.cli.main import COMMANDS, app
from tests.conftest import ROOT

PROBE = """
import sys
sys.argv = ["kefu", *sys.argv[1:]]
from bot.cli.main import app
try:
    app()
except SystemExit:
    pass
heavy = sorted(m for m in ("bot.app", "bot.settings", "sqlalchemy", "fastapi", "sklearn",
                           "bot.features.kpis.review") if m in sys.modules)
print("HEAVY", ",".join(heavy))
"""


def probe(*args: str) -> tuple[str, list[str]]:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                            text=True, cwd=ROOT, timeout=120, check=True)
    out, _, heavy = result.stdout.rpartition("HEAVY ")
    return out, [m for m in heavy.strip().split(",") if m]


def test_help_lists_every_command_without_importing_the_app() -> None:
    out, heavy = probe("--help")
    for command in COMMANDS:
        assert command.name in out
    assert heavy == []


# `--help` of a sub-command and of each of its own commands, in one fresh interpreter; then
# which of the heavy parts (the database layer, the dialogue, the web app, the model) loaded.
TREE_PROBE = """
import sys
from bot.cli.main import app, KefuGroup
import typer

def run(*args):
    try:
        app([*args, "--help"], standalone_mode=False)
    except SystemExit:
        pass

name = sys.argv[1]
run(name)
group = typer.main.get_group(app)
command = group.get_command(None, name)
for sub in sorted(getattr(command, "commands", {})):
    run(name, sub)
heavy = sorted(m for m in sys.modules if m in (
    "sqlalchemy", "bot.app", "bot.dialogue", "bot.dialogue.pipeline", "bot.core.storage",
    "bot.core.storage.db", "bot.server", "fastapi", "numpy", "sklearn", "bot.settings"))
print("HEAVY", ",".join(heavy))
"""
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_sub_command_help_imports_neither_the_database_nor_the_dialogue(
        command: Lazy) -> None:
    result = subprocess.run([sys.executable, "-c", TREE_PROBE, command.name],
                            capture_output=True, text=True, cwd=ROOT, timeout=120, check=True)
    out, _, heavy = result.stdout.rpartition("HEAVY ")
    assert "Usage:" in out
    assert [m for m in heavy.strip().split(",") if m] == [], (
        f"`kefu {command.name} --help` imports these at start-up; move the imports into "
        "the command functions (see bot/cli/report_cmd.py)")


def test_a_light_command_loads_only_what_it_needs() -> None:
    out, heavy = probe("report", "--help")
    assert "--quarter" in out
    assert heavy == []


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_each_registered_command_loads(command: Lazy) -> None:
    result = CliRunner().invoke(app, [command.name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_members_keeps_its_privacy_sub_commands() -> None:
    result = CliRunner().invoke(app, ["members", "--help"])
    assert "export" in result.output and "erase" in result.output


def test_an_unknown_command_is_a_usage_error() -> None:
    assert CliRunner().invoke(app, ["nope"]).exit_code == 2


def hello(name: str = "world") -> None:
    """Say hello."""
    typer.echo(f"hello {name}")


def test_adding_a_command_is_one_registration() -> None:
    class Group(LazyGroup):
        lazy: ClassVar[dict[str, Lazy]] = {
            "hello": Lazy("hello", "tests.bot.cli.test_lazy:hello", "Say hello."),
            "demo": Lazy("demo", "bot.cli.demo_cmd:app", "Demo data.")}

    tiny = typer.Typer(cls=Group, add_completion=False)

    @tiny.callback()
    def root() -> None:
        """A tiny CLI."""

    listed = CliRunner().invoke(tiny, ["--help"])
    assert "hello" in listed.output and "Say hello." in listed.output
    ran = CliRunner().invoke(tiny, ["hello", "--name", "kefu"])
    assert ran.exit_code == 0 and ran.output == "hello kefu\n"


def test_simulate_without_the_simulators_says_how_to_get_them() -> None:
    """The wheel leaves kefu_sim out: `kefu simulate` then explains instead of a traceback."""
    hide = ("import sys; sys.modules['kefu_sim'] = None; sys.argv = ['kefu', *sys.argv[1:]]; "
            "from bot.cli.main import run; run()")
    result = subprocess.run([sys.executable, "-c", hide, "simulate", "telegram", "--port", "1"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    assert "kefu_sim" in result.stderr and "scripts/setup dev" in result.stderr
    assert "Traceback" not in result.stderr


def test_simulate_help_loads_the_simulators_of_a_checkout() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "simulate", "--help"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "telegram" in result.stdout and "wechat" in result.stdout
