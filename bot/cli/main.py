"""The `kefu` command. Each sub-command is imported only when it runs (bot/cli/lazy.py), so
`kefu --help` and light commands start fast; add one with a line in COMMANDS."""

from __future__ import annotations

from typing import ClassVar

import typer

from bot.cli.lazy import Lazy, LazyGroup


def _members() -> typer.Typer:
    # `members export|erase` live with the other privacy commands.
    from bot.cli import members_cmd, privacy_cmd

    if "export" not in {c.name for c in members_cmd.app.registered_commands}:
        members_cmd.app.command("export")(privacy_cmd.export_command)
        members_cmd.app.command("erase")(privacy_cmd.erase_command)
    return members_cmd.app


COMMANDS = (
    Lazy("serve", "bot.cli.serve_cmd:serve",
         "Run Kefu: web chat at /, agent console at /console, webhooks, scheduler."),
    Lazy("chat", "bot.cli.chat_cmd:chat",
         "Chat with the bot. Without a terminal, reads one message per line and prints replies."),
    Lazy("report", "bot.cli.report_cmd:report",
         "The KPI review: each KPI against its target and the previous period."),
    Lazy("demo", "bot.cli.demo_cmd:app", "Demo data."),
    Lazy("members", _members, "Look up and import members."),
    Lazy("db", "bot.cli.db_cmd:app", "Database schema migrations."),
    Lazy("agents", "bot.cli.agents_cmd:app", "Agent console accounts."),
    Lazy("keys", "bot.cli.keys_cmd:app", "Encryption keys of personal data: rotate, status."),
    Lazy("audit", "bot.cli.audit_cmd:app", "Search and export the audit log."),
    Lazy("privacy", "bot.cli.privacy_cmd:app", "Privacy: retention purge and members' requests."),
    Lazy("nlu", "bot.cli.nlu_cmd:app", "Train, run and evaluate the NLU model."),
    Lazy("simulate", "kefu_sim.cli:app", "Run a local platform simulator."),
    Lazy("jobs", "bot.cli.jobs_cmd:app", "Timed jobs: their last runs; run one now."),
    Lazy("integrations", "bot.cli.integrations_cmd:app",
         "API keys for tills and shop systems (purchases and refunds)."),
    Lazy("greetings", "bot.cli.greetings_cmd:app",
         "Birthday and holiday greetings: preview who is greeted on a day."),
    Lazy("campaign", "bot.cli.campaign_cmd:app",
         "Campaigns to member segments: create, preview, list, status, cancel."),
)


class KefuGroup(LazyGroup):
    lazy: ClassVar[dict[str, Lazy]] = {command.name: command for command in COMMANDS}


app = typer.Typer(
    name="kefu",
    cls=KefuGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Click's plain help, inherited by every subcommand: Rich's option table labels even
    # flags with a type (`--demo <bool>`). Defaults are shown wherever an option has one.
    rich_markup_mode=None,
    context_settings={"show_default": True, "help_option_names": ["-h", "--help"]},
)


@app.callback()
def kefu() -> None:
    """Kefu (客服): a customer-service bot for retail membership programs."""


def run() -> None:
    app()
