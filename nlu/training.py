"""Fits the intent model with scikit-learn (imported here only, so parsing never loads it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from nlu.features import FeatureConfig, extract_terms, weigh
from nlu.lexicon import Lexicon
from nlu.model import IntentModel
from nlu.normalise import classifier_text

TRAIN_MAX_CHARS = 1000


def vectorise(
    texts: Sequence[str], config: FeatureConfig, lexicon: Lexicon | None = None
) -> tuple[Any, dict[str, int], npt.NDArray[np.float32]]:
    """Tf-idf matrix of classifier-normalised texts, with its vocabulary and idf."""
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped, unused-ignore]
    from sklearn.preprocessing import normalize

    weighted = [weigh(extract_terms(text, config, lexicon), config) for text in texts]
    document_frequency: dict[str, int] = {}
    for terms in weighted:
        for term in terms:
            document_frequency[term] = document_frequency.get(term, 0) + 1
    kept = sorted(t for t, n in document_frequency.items() if n >= config.min_count)
    vocabulary = {term: index for index, term in enumerate(kept)}
    count = len(texts)
    # Smoothed idf, as scikit-learn's TfidfVectorizer computes it.
    idf = np.array([np.log((1 + count) / (1 + document_frequency[t])) + 1 for t in kept],
                   dtype=np.float32)
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    for row, terms in enumerate(weighted):
        for term, weight in terms.items():
            index = vocabulary.get(term)
            if index is not None:
                rows.append(row)
                cols.append(index)
                values.append(weight * float(idf[index]))
    matrix = csr_matrix((values, (rows, cols)), shape=(count, len(kept)), dtype=np.float64)
    return normalize(matrix), vocabulary, idf


def classifier(config: FeatureConfig) -> Any:
    """One-vs-rest linear SVM: at least as accurate as logistic regression on this data and
    ~30x faster to fit; its margins become probabilities through a fitted softmax temperature."""
    from sklearn.svm import LinearSVC

    return LinearSVC(C=config.regularisation_c, class_weight="balanced")


def _fit_temperature(logits: npt.NDArray[np.float64], labels: npt.NDArray[np.int64]) -> float:
    """The temperature that makes held-out softmax probabilities honest (lowest log loss)."""
    from scipy.optimize import minimize_scalar  # type: ignore[import-untyped, unused-ignore]

    def loss(temperature: float) -> float:
        scaled = logits / temperature
        scaled -= scaled.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(scaled).sum(axis=1))
        return float(np.mean(log_norm - scaled[np.arange(len(labels)), labels]))

    result = minimize_scalar(loss, bounds=(0.05, 20.0), method="bounded")
    return float(result.x)


def fit_model(
    texts: Sequence[str],
    intents: Sequence[str],
    config: FeatureConfig,
    lexicon: Lexicon | None = None,
    meta: dict[str, Any] | None = None,
) -> IntentModel:
    """Train on raw texts and their intents; probabilities are calibrated by temperature
    scaling on cross-validated logits."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    normalised = [classifier_text(text, max_chars=TRAIN_MAX_CHARS) for text in texts]
    matrix, vocabulary, idf = vectorise(normalised, config, lexicon)
    classes = sorted(set(intents))
    class_index = {name: index for index, name in enumerate(classes)}
    labels = np.array([class_index[name] for name in intents], dtype=np.int64)
    smallest = int(np.bincount(labels).min())
    temperature = 1.0
    folds = min(config.calibration_folds, smallest)
    if folds >= 2:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
        logits = cross_val_predict(classifier(config), matrix, labels, cv=splitter,
                                   method="decision_function")
        scores = np.asarray(logits, dtype=np.float64)
        if scores.ndim == 1:  # binary: one margin per example, as two symmetric logits
            scores = np.column_stack([-scores / 2, scores / 2])
        temperature = _fit_temperature(scores, labels)
    fitted = classifier(config).fit(matrix, labels)
    coef = np.asarray(fitted.coef_, dtype=np.float32)
    intercept = np.asarray(fitted.intercept_, dtype=np.float32)
    if len(classes) == 2:
        # A binary linear model keeps one row of weights; expand to two symmetric logits.
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    return IntentModel(
        classes=tuple(classes),
        vocabulary=vocabulary,
        idf=idf,
        coef=np.ascontiguousarray(coef.T),
        intercept=intercept,
        temperature=temperature,
        config=config,
        lexicon=lexicon,
        meta=dict(meta or {}),
    )
