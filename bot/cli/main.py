"""The `kefu` command: serve, chat, demo, members, nlu, db, jobs, simulate."""

from __future__ import annotations

import typer

from bot.cli import (
    agents_cmd,
    audit_cmd,
    campaign_cmd,
    chat_cmd,
    db_cmd,
    demo_cmd,
    greetings_cmd,
    integrations_cmd,
    jobs_cmd,
    keys_cmd,
    members_cmd,
    privacy_cmd,
    report_cmd,
    serve_cmd,
)

app = typer.Typer(
    name="kefu",
    help="Kefu (客服): a customer-service bot for retail membership programs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Click's plain help, inherited by every subcommand: Rich's option table labels even
    # flags with a type (`--demo <bool>`). Defaults are shown wherever an option has one.
    rich_markup_mode=None,
    context_settings={"show_default": True, "help_option_names": ["-h", "--help"]},
)
app.command("serve")(serve_cmd.serve)
app.command("chat")(chat_cmd.chat)
app.command("report")(report_cmd.report)
app.add_typer(demo_cmd.app, name="demo")
app.add_typer(members_cmd.app, name="members")
app.add_typer(db_cmd.app, name="db")
app.add_typer(agents_cmd.app, name="agents")
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(privacy_cmd.app, name="privacy")
app.add_typer(jobs_cmd.app, name="jobs")
app.add_typer(integrations_cmd.app, name="integrations")
app.add_typer(greetings_cmd.app, name="greetings")
app.add_typer(campaign_cmd.app, name="campaign")
members_cmd.app.command("export")(privacy_cmd.export_command)
members_cmd.app.command("erase")(privacy_cmd.erase_command)


def _mount_optional() -> None:
    # Sub-apps that live in modules of their own; mounted when present.
    try:
        from bot.cli import nlu_cmd  # type: ignore[attr-defined,unused-ignore]

        app.add_typer(nlu_cmd.app, name="nlu", help="Train, run and evaluate the NLU model.")
    except ImportError:
        pass
    try:
        from bot.simulators import cli as simulate_cli  # type: ignore[attr-defined,unused-ignore]

        app.add_typer(simulate_cli.app, name="simulate", help="Run a local platform simulator.")
    except ImportError:
        pass


_mount_optional()


def run() -> None:
    app()
