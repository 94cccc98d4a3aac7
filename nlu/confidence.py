"""From class probabilities to the reported intent: ranking, threshold, close alternatives."""

from __future__ import annotations

from collections.abc import Sequence

from nlu.intents import OUT_OF_SCOPE
from nlu.types import IntentScore, Parse

RANKING_LENGTH = 10  # as Rasa's DIETClassifier reports by default


def rank(classes: Sequence[str], probabilities: Sequence[float]) -> tuple[IntentScore, ...]:
    pairs = sorted(zip(classes, probabilities, strict=True), key=lambda p: (-p[1], p[0]))
    return tuple(IntentScore(name, float(p)) for name, p in pairs[:RANKING_LENGTH])


def choose(ranking: Sequence[IntentScore], threshold: float) -> IntentScore:
    """The top intent, or ``out_of_scope`` when the top confidence is below ``threshold``.

    Like Rasa's FallbackClassifier, a fallback carries the threshold as its confidence; the
    ranking keeps the model's own scores so the dialogue can offer the runner-ups.
    """
    if not ranking:
        return IntentScore(OUT_OF_SCOPE, 1.0)
    top = ranking[0]
    if top.name != OUT_OF_SCOPE and top.confidence < threshold:
        return IntentScore(OUT_OF_SCOPE, threshold)
    return top


def close_alternatives(parse: Parse, *, margin: float) -> tuple[str, ...]:
    """Intents to offer as buttons when the top two are within ``margin`` of each other.

    Empty when the parse is clear. ``out_of_scope`` is never offered as a choice.
    """
    ranking = [s for s in parse.intent_ranking if s.name != OUT_OF_SCOPE]
    if len(ranking) < 2 or ranking[0].confidence - ranking[1].confidence > margin:
        return ()
    best = ranking[0].confidence
    return tuple(s.name for s in ranking if best - s.confidence <= margin)
