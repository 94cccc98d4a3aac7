"""Tests for bot.cli.nlu_cmd (`kefu nlu train|parse|test`), run through typer's CliRunner."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.nlu_cmd import app
from tests.nlu.conftest import DATA_DIR, HELDOUT, ROOT

runner = CliRunner()


@pytest.fixture
def model_dir(tmp_path: Path, trained_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "model"
    shutil.copytree(trained_model_dir, target)
    monkeypatch.setenv("KEFU_CONFIG", str(ROOT / "config.yml"))
    monkeypatch.setenv("KEFU_NLU__MODEL_DIR", str(target))
    monkeypatch.setenv("KEFU_NLU__DATA_DIR", str(DATA_DIR))
    monkeypatch.setenv("KEFU_NLU__BACKEND", "embedded")
    return target


def test_parse_stdin_prints_one_json_object_per_line(model_dir: Path) -> None:
    result = runner.invoke(app, ["parse", "--json"],
                           input="我的積分什麼時候過期\n\n绑定13800000001\n")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["text"] == "我的積分什麼時候過期"
    assert first["intent"]["name"] == "points_expiry"
    assert set(first) == {"text", "intent", "entities", "intent_ranking"}
    assert second["entities"][0]["value"] == "+8613800000001"


def test_parse_text_human_and_json(model_dir: Path) -> None:
    human = runner.invoke(app, ["parse", "銅鑼灣店聽日開唔開"])
    assert human.exit_code == 0, human.output
    assert "intent: store_hours" in human.stdout
    assert "store: 'hk-causeway'" in human.stdout
    as_json = runner.invoke(app, ["parse", "--json", "how many points do i have"])
    assert json.loads(as_json.stdout)["intent"]["name"] == "points_balance"


def test_parse_trains_first_when_there_is_no_model(model_dir: Path) -> None:
    for old in model_dir.glob("*.npz"):
        old.unlink()
    result = runner.invoke(app, ["parse", "--json", "你好"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["intent"]["name"] == "greet"
    assert len(list(model_dir.glob("*.npz"))) == 1


def test_train(model_dir: Path) -> None:
    result = runner.invoke(app, ["train"])
    assert result.exit_code == 0, result.output
    assert "trained on" in result.stdout
    assert str(model_dir) in result.stdout


def test_test_prints_scores(model_dir: Path, tmp_path: Path) -> None:
    png = tmp_path / "confusion.png"
    args = ["test", "--data", str(HELDOUT)]
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    if has_matplotlib:
        args += ["--confusion-png", str(png)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    for needle in ("accuracy:", "macro-F1:", "zh-Hant", "points_expiry", "most confused"):
        assert needle in result.stdout
    if has_matplotlib:
        assert png.is_file()


def test_test_with_bad_data_names_the_file(model_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("nlu:\n- intnet: greet\n", encoding="utf-8")
    result = runner.invoke(app, ["test", "--data", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2" in result.output


def test_rasa_backend_without_url_is_a_clear_error(model_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_NLU__BACKEND", "rasa")
    result = runner.invoke(app, ["parse", "hi"])
    assert result.exit_code == 1
    assert "nlu.rasa_url" in result.output
