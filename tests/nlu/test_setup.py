"""Tests for bot.cli.nlu_setup: the gazetteer and backend built from config.yml."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.cli.nlu_setup import build_gazetteer, build_nlu, nlu_data_dir
from bot.core.errors import ConfigError
from bot.settings import Settings, load_settings
from nlu.embedded import EmbeddedNlu
from nlu.rasa_client import RasaNlu
from tests.nlu.conftest import ROOT


@pytest.fixture
def settings() -> Settings:
    return load_settings(ROOT / "config.yml")


def _with_nlu(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"nlu": settings.nlu.model_copy(update=changes)})


def test_gazetteer_from_config(settings: Settings) -> None:
    gazetteer = build_gazetteer(settings)
    assert gazetteer.canonical("Canton") == ("city", "广州")
    assert gazetteer.canonical("上海市") == ("city", "上海")
    assert gazetteer.canonical("銅鑼灣店") == ("store", "hk-causeway")
    assert gazetteer.canonical("Shanghai Jing'an Kerry Centre") == ("store", "sh-jingan")
    assert gazetteer.canonical("上海徐家匯店") == ("store", "sh-xujiahui")


def test_embedded_by_default(settings: Settings) -> None:
    backend = build_nlu(_with_nlu(settings, backend="embedded"))
    assert isinstance(backend, EmbeddedNlu)
    assert backend.threshold == settings.nlu.threshold


def test_rasa_with_embedded_fallback(settings: Settings) -> None:
    configured = _with_nlu(settings, backend="rasa", rasa_url="http://127.0.0.1:5005",
                           rasa_timeout_seconds=0.5)
    configured = configured.model_copy(update={"nlu_rasa_token": SecretStr("t0ken")})
    backend = build_nlu(configured)
    assert isinstance(backend, RasaNlu)
    assert isinstance(backend.fallback, EmbeddedNlu)
    assert backend.url == "http://127.0.0.1:5005/model/parse"
    assert backend.timeout == 0.5


def test_rasa_without_url_is_refused(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"nlu\.rasa_url"):
        build_nlu(_with_nlu(settings, backend="rasa", rasa_url=None))


def test_data_dir_falls_back_to_the_packaged_data(settings: Settings) -> None:
    missing = _with_nlu(settings, data_dir=Path("no/such/dir"))
    assert nlu_data_dir(missing) == ROOT / "nlu" / "data"
