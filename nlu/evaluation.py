"""Intent evaluation: accuracy, macro-F1, per-intent scores, confusions, per-language breakdown."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nlu.errors import NluError
from nlu.language import detect_language
from nlu.loader import Example


@dataclass(frozen=True, slots=True)
class IntentScores:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Scores of predicted against gold intents. Macro-F1 averages over every intent that
    appears in the gold or the predicted labels (as scikit-learn does)."""

    count: int
    accuracy: float
    macro_f1: float
    per_intent: tuple[IntentScores, ...]
    confusions: tuple[tuple[str, str, int], ...]  # (gold, predicted, count), most first
    labels: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]  # rows gold, columns predicted, in ``labels`` order
    by_language: dict[str, Evaluation]


def example_language(example: Example) -> str:
    """The ``language`` metadata of the example's block, else a guess from its text."""
    return example.metadata.get("language") or detect_language(example.text)


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def evaluate(
    gold: Sequence[str], predicted: Sequence[str], languages: Sequence[str] | None = None
) -> Evaluation:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    labels = tuple(sorted(set(gold) | set(predicted)))
    pairs = Counter(zip(gold, predicted, strict=True))
    gold_count = Counter(gold)
    predicted_count = Counter(predicted)
    per_intent = []
    for label in labels:
        hits = pairs[(label, label)]
        precision = hits / predicted_count[label] if predicted_count[label] else 0.0
        recall = hits / gold_count[label] if gold_count[label] else 0.0
        per_intent.append(IntentScores(label, precision, recall, _f1(precision, recall),
                                       gold_count[label]))
    count = len(gold)
    correct = sum(pairs[(label, label)] for label in labels)
    confusions = sorted(((g, p, n) for (g, p), n in pairs.items() if g != p),
                        key=lambda item: (-item[2], item[0], item[1]))
    by_language: dict[str, Evaluation] = {}
    if languages is not None:
        for language in sorted(set(languages)):
            chosen = [i for i, lang in enumerate(languages) if lang == language]
            by_language[language] = evaluate([gold[i] for i in chosen],
                                             [predicted[i] for i in chosen])
    return Evaluation(
        count=count,
        accuracy=correct / count if count else 0.0,
        macro_f1=sum(s.f1 for s in per_intent) / len(per_intent) if per_intent else 0.0,
        per_intent=tuple(per_intent),
        confusions=tuple(confusions),
        labels=labels,
        matrix=tuple(tuple(pairs[(g, p)] for p in labels) for g in labels),
        by_language=by_language,
    )


def format_evaluation(result: Evaluation, *, top_confusions: int = 10) -> str:
    """A plain-text report: overall scores, per language, per intent, most-confused pairs."""
    lines = [f"examples: {result.count}",
             f"accuracy: {result.accuracy:.4f}",
             f"macro-F1: {result.macro_f1:.4f}"]
    if result.by_language:
        lines.append("")
        lines.append(f"{'language':<10} {'n':>5} {'accuracy':>9} {'macro-F1':>9}")
        for language, sub in result.by_language.items():
            lines.append(f"{language:<10} {sub.count:>5} {sub.accuracy:>9.4f} {sub.macro_f1:>9.4f}")
    lines.append("")
    lines.append(f"{'intent':<18} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
    for s in result.per_intent:
        lines.append(f"{s.intent:<18} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>7.3f} "
                     f"{s.support:>8}")
    if result.confusions:
        lines.append("")
        lines.append("most confused (gold -> predicted: count)")
        lines.extend(f"  {g} -> {p}: {n}" for g, p, n in result.confusions[:top_confusions])
    return "\n".join(lines)


def write_confusion_png(result: Evaluation, path: Path) -> None:
    """Draw the confusion matrix. Needs matplotlib (the optional ``plot`` extra).

    Raises:
        NluError: matplotlib is not installed.
    """
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:
        raise NluError("writing a confusion-matrix image needs matplotlib: "
                       "pip install 'kefu[plot]' (or pip install matplotlib)") from exc
    size = max(6.0, 0.4 * len(result.labels))
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(result.matrix, cmap="Blues")
    ticks = range(len(result.labels))
    axes.set_xticks(list(ticks), labels=list(result.labels), rotation=90)
    axes.set_yticks(list(ticks), labels=list(result.labels))
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    for row, values in enumerate(result.matrix):
        for column, value in enumerate(values):
            if value:
                axes.text(column, row, str(value), ha="center", va="center", fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
