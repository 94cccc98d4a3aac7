"""The embedded NLU backend: a local linear intent model plus rule-based entities."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nlu.artifact import ModelStore, model_key
from nlu.confidence import choose, rank
from nlu.entities.extract import SynonymMap, extract_entities
from nlu.features import FeatureConfig
from nlu.gazetteer import Gazetteer
from nlu.intents import OUT_OF_SCOPE
from nlu.lexicon import Lexicon
from nlu.loader import load_nlu_dir
from nlu.model import IntentModel
from nlu.normalise import align_normalise, classifier_form
from nlu.types import Entity, IntentScore, Parse

logger = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "Asia/Shanghai"
_PLACE_LOOKUPS = ("city", "store")


@dataclass(frozen=True, slots=True)
class TrainReport:
    """What :meth:`EmbeddedNlu.train` did."""

    examples: int
    intents: int
    features: int
    seconds: float
    temperature: float
    path: Path
    key: str


def _today(timezone: str) -> date:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(DEFAULT_TIMEZONE)
    return datetime.now(zone).date()


class EmbeddedNlu:
    """Implements :class:`~nlu.protocol.NluBackend` with no external service.

    The model is trained from ``data_dir`` on first use and cached in ``model_dir`` under a
    hash of the data and feature config, so editing the data retrains once, automatically.
    ``gazetteer`` (cities and stores) defaults to the ``lookup: city``/``lookup: store``
    tables of the training data; the running bot passes one built from config.yml.
    """

    __slots__ = ("_gazetteer", "_lock", "_model", "_synonyms", "config", "data_dir",
                 "max_text_chars", "model_dir", "store", "threshold")

    def __init__(
        self,
        *,
        data_dir: Path,
        model_dir: Path,
        threshold: float = 0.45,
        max_text_chars: int = 1000,
        gazetteer: Gazetteer | None = None,
        config: FeatureConfig | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.model_dir = model_dir
        self.threshold = threshold
        self.max_text_chars = max_text_chars
        self.config = config or FeatureConfig()
        self.store = ModelStore(model_dir)
        self._gazetteer = gazetteer
        self._synonyms = SynonymMap()
        self._model: IntentModel | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> IntentModel | None:
        return self._model

    def needs_training(self) -> bool:
        """Whether :meth:`load_or_train` would have to train (no model for the current data)."""
        if self._model is not None:
            return False
        return not self.store.path_for(model_key(self.data_dir, self.config)).is_file()

    def train(self) -> TrainReport:
        """Train from ``data_dir`` now (whether or not a model exists) and save the result."""
        with self._lock, self.store.training_lock():
            return self._train(model_key(self.data_dir, self.config))

    def load_or_train(self) -> IntentModel:
        """The current model: loaded from ``model_dir``, or trained when missing or stale."""
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                key = model_key(self.data_dir, self.config)
                model = self.store.load(key)
                if model is None:
                    with self.store.training_lock():
                        model = self.store.load(key)  # another process may have finished it
                        if model is None:
                            logger.info("nlu: no model for the current data; training")
                            self._train(key)
                            model = self._model
                self._install(model)
        assert self._model is not None
        return self._model

    def _train(self, key: str) -> TrainReport:
        from nlu.training import fit_model  # scikit-learn is loaded only to train

        started = time.perf_counter()
        data = load_nlu_dir(self.data_dir)
        meta = {
            "synonyms": {name: list(values) for name, values in data.synonyms.items()},
            "places": {name: list(data.lookups.get(name, ())) for name in _PLACE_LOOKUPS},
            "examples": len(data.examples),
        }
        model = fit_model([e.text for e in data.examples], [e.intent for e in data.examples],
                          self.config, Lexicon(data.lookups) if data.lookups else None, meta)
        path = self.store.save(model, key)
        self._install(model)
        seconds = time.perf_counter() - started
        logger.info("nlu: trained on %d examples in %.1f s", len(data.examples), seconds)
        return TrainReport(len(data.examples), len(model.classes), len(model.vocabulary),
                           seconds, model.temperature, path, key)

    def _install(self, model: IntentModel | None) -> None:
        if model is None:
            return
        synonyms = {name: tuple(values) for name, values in model.meta.get("synonyms", {}).items()}
        self._synonyms = SynonymMap(synonyms)
        if self._gazetteer is None:
            places = model.meta.get("places", {})
            self._gazetteer = Gazetteer.from_lookup_tables(places, synonyms)
        self._model = model

    def parse_sync(
        self, text: str, *, timezone: str = DEFAULT_TIMEZONE, today: date | None = None
    ) -> Parse:
        """Understand ``text``. Never raises on any string; trains first if needed."""
        model = self.load_or_train()
        truncated = text[: self.max_text_chars]
        normalised = align_normalise(truncated)
        features_text = classifier_form(normalised)
        if not features_text:
            only = IntentScore(OUT_OF_SCOPE, 1.0)
            return Parse(text=text, intent=only, entities=(), intent_ranking=(only,))
        ranking = rank(model.classes, model.probabilities(features_text).tolist())
        entities = extract_entities(
            normalised,
            today=today or _today(timezone),
            gazetteer=self._gazetteer,
            synonyms=self._synonyms,
        )
        return Parse(text=text, intent=choose(ranking, self.threshold), entities=entities,
                     intent_ranking=ranking)

    def extract_entities(
        self, text: str, timezone: str = DEFAULT_TIMEZONE, today: date | None = None
    ) -> tuple[Entity, ...]:
        """Only the entities of ``text`` (used with the Rasa backend to normalise values)."""
        self.load_or_train()
        normalised = align_normalise(text[: self.max_text_chars])
        return extract_entities(normalised, today=today or _today(timezone),
                                gazetteer=self._gazetteer, synonyms=self._synonyms)

    async def parse(self, text: str, *, timezone: str = DEFAULT_TIMEZONE) -> Parse:
        if self._model is None:
            # Training takes seconds: keep it off the event loop.
            await asyncio.to_thread(self.load_or_train)
        return self.parse_sync(text, timezone=timezone)
