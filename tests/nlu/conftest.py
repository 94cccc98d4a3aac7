"""Fixtures for the NLU tests: one model trained per session, loaded once per module."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nlu.embedded import EmbeddedNlu
from nlu.gazetteer import Gazetteer

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "nlu" / "data"
HELDOUT = ROOT / "nlu" / "heldout" / "test.yml"
TODAY = date(2026, 11, 23)  # a Monday


def config_gazetteer() -> Gazetteer:
    """What bot.cli.nlu_setup builds from config.yml, written out so nlu/ tests stand alone."""
    return Gazetteer(
        cities={"上海": ["Shanghai", "沪", "上海市"], "北京": ["Beijing", "京", "北京市"],
                "香港": ["Hong Kong", "HK", "香港特别行政区"]},
        stores={"sh-jingan": ["上海静安嘉里店", "静安店", "嘉里中心店", "Jing'an store"],
                "bj-sanlitun": ["北京三里屯店", "三里屯店", "三里屯", "Sanlitun store"],
                "hk-causeway": ["香港铜锣湾店", "香港銅鑼灣店", "铜锣湾店", "Causeway Bay store"]},
    )


@pytest.fixture(scope="session")
def trained_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory holding a model trained on nlu/data (trained once per session)."""
    model_dir = tmp_path_factory.mktemp("nlu-model")
    EmbeddedNlu(data_dir=DATA_DIR, model_dir=model_dir).train()
    return model_dir


@pytest.fixture(scope="module")
def nlu(trained_model_dir: Path) -> EmbeddedNlu:
    """The embedded backend with the trained model loaded and the config's gazetteer."""
    backend = EmbeddedNlu(data_dir=DATA_DIR, model_dir=trained_model_dir,
                          gazetteer=config_gazetteer())
    backend.load_or_train()
    return backend
