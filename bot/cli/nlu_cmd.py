"""`kefu nlu train|parse|test`: train, run and evaluate the NLU model. The model's code
(numpy, scikit-learn) is imported when a command runs, so that `kefu nlu --help` starts
fast."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.core.errors import KefuError
from nlu import PACKAGE_DIR
from nlu.errors import NluError

if TYPE_CHECKING:
    from bot.settings import Settings
    from nlu.protocol import NluBackend
    from nlu.types import Parse

app = typer.Typer(help="Train, run and evaluate the NLU model.", no_args_is_help=True)

DEFAULT_TEST_FILE = Path("nlu/heldout/test.yml")


def _settings() -> Settings:
    from bot.settings import load_settings

    try:
        return load_settings()
    except KefuError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


def _ensure_model(backend: NluBackend) -> None:
    from nlu.embedded import EmbeddedNlu

    embedded = backend if isinstance(backend, EmbeddedNlu) else getattr(backend, "fallback", None)
    if isinstance(embedded, EmbeddedNlu) and embedded.model is None:
        if embedded.needs_training():
            typer.echo("nlu: no model for the current training data; training it…", err=True)
        embedded.load_or_train()


def _human(parse: Parse) -> str:
    lines = [f"intent: {parse.intent.name} ({parse.intent.confidence:.2f})"]
    lines.extend(f"  {e.entity}: {e.value!r} [{e.start}:{e.end}]" for e in parse.entities)
    runners = ", ".join(f"{s.name} {s.confidence:.2f}" for s in parse.intent_ranking[1:4])
    if runners:
        lines.append(f"runner-ups: {runners}")
    return "\n".join(lines)


@app.command()
def train() -> None:
    """Train the embedded model from nlu/data/*.yml (always, even when it is up to date)."""
    from bot.cli.nlu_setup import build_embedded

    settings = _settings()
    try:
        report = build_embedded(settings).train()
    except NluError as exc:
        typer.echo(f"nlu: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"trained on {report.examples} examples, {report.intents} intents, "
               f"{report.features} features in {report.seconds:.1f} s → {report.path}")


@app.command()
def parse(
    text: Annotated[str | None, typer.Argument(help="Text to parse; omit to read stdin.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print Rasa-shaped JSON.")] = False,
    timezone: Annotated[str | None, typer.Option(help="Time zone for relative dates.")] = None,
) -> None:
    """Parse TEXT, or each line of stdin (one JSON object per line)."""
    from bot.cli.nlu_setup import build_nlu

    settings = _settings()
    zone = timezone or settings.app.default_timezone
    try:
        backend = build_nlu(settings)
        _ensure_model(backend)
    except (KefuError, NluError) as exc:
        typer.echo(f"nlu: {exc}", err=True)
        raise typer.Exit(1) from exc

    async def run() -> None:
        if text is not None:
            result = await backend.parse(text, timezone=zone)
            typer.echo(json.dumps(result.to_dict(), ensure_ascii=False) if as_json
                       else _human(result))
            return
        for line in sys.stdin:
            stripped = line.rstrip("\r\n")
            if not stripped.strip():
                continue
            result = await backend.parse(stripped, timezone=zone)
            typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))

    asyncio.run(run())


@app.command("test")
def run_test(
    data: Annotated[Path | None, typer.Option(help="Rasa NLU YAML to evaluate on "
                                              "(default: nlu/heldout/test.yml).")] = None,
    confusion_png: Annotated[Path | None, typer.Option(
        "--confusion-png", help="Also draw the confusion matrix here (needs matplotlib).")] = None,
) -> None:
    """Evaluate: accuracy, macro-F1, per-language and per-intent scores, confused pairs."""
    from bot.cli.nlu_setup import build_nlu
    from nlu.evaluation import evaluate, example_language, format_evaluation, write_confusion_png
    from nlu.loader import load_nlu_file

    settings = _settings()
    path = data or (DEFAULT_TEST_FILE if DEFAULT_TEST_FILE.is_file()
                    else PACKAGE_DIR / "heldout" / "test.yml")
    try:
        examples = load_nlu_file(path).examples
        backend = build_nlu(settings)
        _ensure_model(backend)
    except (KefuError, NluError) as exc:
        typer.echo(f"nlu: {exc}", err=True)
        raise typer.Exit(1) from exc
    if not examples:
        typer.echo(f"nlu: {path} holds no intent examples", err=True)
        raise typer.Exit(1)

    async def predict() -> list[str]:
        zone = settings.app.default_timezone
        return [(await backend.parse(e.text, timezone=zone)).intent.name for e in examples]

    predicted = asyncio.run(predict())
    result = evaluate([e.intent for e in examples], predicted,
                      [example_language(e) for e in examples])
    typer.echo(f"data: {path}")
    typer.echo(format_evaluation(result))
    if confusion_png is not None:
        try:
            write_confusion_png(result, confusion_png)
        except NluError as exc:
            typer.echo(f"nlu: {exc}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"confusion matrix: {confusion_png}")
