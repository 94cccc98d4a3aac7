"""The trained intent model as plain arrays: tf-idf vocabulary, linear weights, temperature."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nlu.errors import NluModelError
from nlu.features import FeatureConfig, extract_terms, weigh
from nlu.lexicon import Lexicon

MODEL_FORMAT = 1
FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class IntentModel:
    """A linear classifier over tf-idf terms with temperature-scaled softmax probabilities.

    Stored as an ``.npz`` of arrays and JSON, never a pickle, so loading a model file cannot
    run code.
    """

    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: FloatArray
    coef: FloatArray  # (n_features, n_classes): one column gather per term at parse time
    intercept: FloatArray
    temperature: float
    config: FeatureConfig
    lexicon: Lexicon | None
    meta: dict[str, Any]

    def probabilities(self, text: str) -> FloatArray:
        """Class probabilities for a classifier-normalised text (sums to 1)."""
        weights = weigh(extract_terms(text, self.config, self.lexicon), self.config)
        indices: list[int] = []
        values: list[float] = []
        for term, weight in weights.items():
            index = self.vocabulary.get(term)
            if index is not None:
                indices.append(index)
                values.append(weight)
        logits = self.intercept.astype(np.float64)
        if indices:
            idx = np.asarray(indices, dtype=np.intp)
            tfidf = np.asarray(values, dtype=np.float64) * self.idf[idx]
            tfidf /= float(np.sqrt(np.dot(tfidf, tfidf)))
            logits = logits + tfidf @ self.coef[idx]
        scaled = logits / self.temperature
        scaled -= scaled.max()
        exp = np.exp(scaled)
        probabilities: FloatArray = (exp / exp.sum()).astype(np.float32)
        return probabilities

    def save(self, path: Path) -> None:
        """Write to ``path`` (a file object in a temporary name; the caller renames it)."""
        header = {
            "format": MODEL_FORMAT,
            "classes": list(self.classes),
            "temperature": self.temperature,
            "config": self.config.to_dict(),
            "lexicon": self.lexicon.tables if self.lexicon is not None else None,
            "meta": self.meta,
        }
        terms = np.array(sorted(self.vocabulary, key=self.vocabulary.__getitem__), dtype=np.str_)
        buffer = io.BytesIO()
        np.savez(buffer, header=np.array(json.dumps(header, ensure_ascii=False)), terms=terms,
                 idf=self.idf, coef=self.coef, intercept=self.intercept)
        path.write_bytes(buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> IntentModel:
        """Read a model written by :meth:`save`.

        Raises:
            NluModelError: the file is unreadable, damaged or of another format.
        """
        try:
            with np.load(path, allow_pickle=False) as archive:
                header = json.loads(str(archive["header"]))
                if header.get("format") != MODEL_FORMAT:
                    raise NluModelError(f"model file {path} has format {header.get('format')}, "
                                        f"expected {MODEL_FORMAT}; delete it to retrain")
                config_fields = {k: v for k, v in header["config"].items()
                                 if k != "feature_version"}
                terms = archive["terms"].tolist()
                return cls(
                    classes=tuple(header["classes"]),
                    vocabulary={term: index for index, term in enumerate(terms)},
                    idf=archive["idf"].astype(np.float32),
                    coef=np.ascontiguousarray(archive["coef"], dtype=np.float32),
                    intercept=archive["intercept"].astype(np.float32),
                    temperature=float(header["temperature"]),
                    config=FeatureConfig(**config_fields),
                    lexicon=Lexicon(header["lexicon"]) if header.get("lexicon") else None,
                    meta=dict(header.get("meta", {})),
                )
        except (OSError, KeyError, ValueError, TypeError, AttributeError) as exc:
            raise NluModelError(f"model file {path} is unreadable ({exc}); delete it to retrain"
                                ) from exc
