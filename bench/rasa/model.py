"""Train Rasa on the generated project once per content hash; start `rasa run` on a model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from project import WORK, kefu_project, write_project

HERE = Path(__file__).resolve().parent
RASA = HERE / ".venv" / "bin" / "rasa"
MODELS = WORK / "models"


def rasa_env() -> dict[str, str]:
    """No telemetry (the machine has no network beyond package registries), quiet TensorFlow."""
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONWARNINGS": "ignore", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def check_installed() -> None:
    if not RASA.exists():
        sys.exit(f"{RASA} is missing: run bench/rasa/setup first")


def ensure_model(*, log: Path | None = None) -> tuple[Path, Path, float]:
    """(project folder, model file, training seconds): trains only when no model exists for the
    current project's hash; the seconds are those of the run that trained it."""
    check_installed()
    project = kefu_project()
    folder = WORK / f"project-{project.digest}"
    model = MODELS / f"{project.digest}.tar.gz"
    meta = MODELS / f"{project.digest}.json"
    if model.exists() and meta.exists() and folder.exists():
        return folder, model, float(json.loads(meta.read_text())["train_seconds"])
    folder = write_project(project)
    MODELS.mkdir(parents=True, exist_ok=True)
    log = log or WORK / f"train-{project.digest}.log"
    print(f"training Rasa into {model} (log: {log}); this takes many minutes", file=sys.stderr)
    started = time.perf_counter()
    with log.open("wb") as out:
        done = subprocess.run(
            [str(RASA), "train", "--config", "config.yml", "--domain", "domain.yml",
             "--data", "data", "--out", str(MODELS), "--fixed-model-name", project.digest],
            cwd=folder, env=rasa_env(), stdout=out, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or not model.exists():
        sys.exit(f"rasa train failed (exit {done.returncode}); see {log}")
    meta.write_text(json.dumps({"train_seconds": seconds,
                                "load_average": os.getloadavg(),
                                "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                            time.gmtime())}))
    return folder, model, seconds


def rasa_command(model: Path, *, host: str, port: int, token: str | None) -> list[str]:
    """`rasa run --enable-api` with the REST channel (credentials.yml of the project folder)."""
    command = [str(RASA), "run", "--enable-api", "--model", str(model), "--interface", host,
               "--port", str(port), "--credentials", "credentials.yml"]
    return command + (["--auth-token", token] if token else [])


def start_rasa(folder: Path, model: Path, *, port: int, token: str | None,
               log: Path, host: str = "127.0.0.1") -> subprocess.Popen[bytes]:
    """Rasa's server as its own process, run from the project folder."""
    with log.open("wb") as out:
        return subprocess.Popen(rasa_command(model, host=host, port=port, token=token),
                                cwd=folder, env=rasa_env(), stdout=out,
                                stderr=subprocess.STDOUT)
