"""Held-out scores from /model/parse answers, the same way for Kefu and Rasa."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from nlu.evaluation import evaluate

# Rasa's FallbackClassifier answers nlu_fallback below its threshold; Kefu reads it as
# out_of_scope (nlu/rasa_client.py), and Kefu's own /model/parse says out_of_scope directly.
_SAME_AS = {"nlu_fallback": "out_of_scope"}


def predicted_intent(body: bytes) -> str:
    """The intent name of a /model/parse answer (``""`` when the answer is not Rasa's shape)."""
    try:
        parsed = json.loads(body)
        name = parsed["intent"]["name"]
    except (ValueError, KeyError, TypeError):
        return ""
    if not isinstance(name, str):
        return ""
    return _SAME_AS.get(name, name)


def intent_scores(gold: Sequence[str], predicted: Sequence[str],
                  languages: Sequence[str]) -> dict[str, Any]:
    """Accuracy and macro-F1 overall and per language (macro-F1 over the intents that appear
    in that language's gold or predicted labels, as nlu.evaluation defines it)."""
    result = evaluate(gold, predicted, languages)
    return {
        "n": result.count,
        "accuracy": result.accuracy,
        "macro_f1": result.macro_f1,
        "by_language": {language: {"n": sub.count, "accuracy": sub.accuracy,
                                   "macro_f1": sub.macro_f1}
                        for language, sub in result.by_language.items()},
    }
