"""Builds the NLU backend and its gazetteer from Kefu's settings (composition-root helper)."""

from __future__ import annotations

from pathlib import Path

from bot.core.errors import ConfigError
from bot.settings import Settings
from nlu import PACKAGE_DIR
from nlu.embedded import EmbeddedNlu
from nlu.gazetteer import Gazetteer
from nlu.protocol import NluBackend
from nlu.rasa_client import RasaNlu


def build_gazetteer(settings: Settings) -> Gazetteer:
    """Cities (canonical: the config's ``city``) and stores (canonical: the store ``code``)."""
    cities: dict[str, list[str]] = {}
    stores: dict[str, list[str]] = {}
    for store in settings.stores:
        cities.setdefault(store.city, []).extend(store.city_aliases)
        stores[store.code] = [*store.names.values(), *store.aliases]
    return Gazetteer(cities=cities, stores=stores)


def nlu_data_dir(settings: Settings) -> Path:
    """The configured training data, or the data shipped inside the package when the
    configured relative path does not exist (an installed Kefu run from another directory)."""
    configured = settings.nlu.data_dir
    if configured.is_dir() or configured.is_absolute():
        return configured
    return PACKAGE_DIR / "data"


def build_embedded(settings: Settings) -> EmbeddedNlu:
    return EmbeddedNlu(
        data_dir=nlu_data_dir(settings),
        model_dir=settings.nlu.model_dir,
        threshold=settings.nlu.threshold,
        max_text_chars=settings.nlu.max_text_chars,
        gazetteer=build_gazetteer(settings),
    )


def build_nlu(settings: Settings) -> NluBackend:
    """The configured backend: embedded, or Rasa with the embedded model as its fallback.

    Raises:
        ConfigError: ``nlu.backend`` is ``rasa`` but ``nlu.rasa_url`` is not set.
    """
    embedded = build_embedded(settings)
    if settings.nlu.backend == "embedded":
        return embedded
    if not settings.nlu.rasa_url:
        raise ConfigError("Config 'nlu.rasa_url' is missing: nlu.backend is 'rasa', so set the "
                          "Rasa server URL (e.g. http://localhost:5005) or use backend 'embedded'")
    token = settings.nlu_rasa_token.get_secret_value() if settings.nlu_rasa_token else None
    return RasaNlu(
        url=settings.nlu.rasa_url,
        token=token,
        timeout=settings.nlu.rasa_timeout_seconds,
        fallback=embedded,
        threshold=settings.nlu.threshold,
        entities=embedded.extract_entities,
    )
