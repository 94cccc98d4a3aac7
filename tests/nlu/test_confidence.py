"""Tests for nlu.confidence: ranking, threshold and close alternatives."""

from __future__ import annotations

from nlu.confidence import choose, close_alternatives, rank
from nlu.types import IntentScore, Parse


def test_rank_sorts_and_keeps_ten() -> None:
    classes = [f"i{n:02d}" for n in range(12)]
    ranking = rank(classes, [n / 100 for n in range(12)])
    assert len(ranking) == 10
    assert ranking[0] == IntentScore("i11", 0.11)


def test_choose_applies_the_threshold() -> None:
    assert choose((IntentScore("greet", 0.9),), 0.45) == IntentScore("greet", 0.9)
    assert choose((IntentScore("greet", 0.3),), 0.45) == IntentScore("out_of_scope", 0.45)
    assert choose((IntentScore("out_of_scope", 0.2),), 0.45).name == "out_of_scope"
    assert choose((), 0.45).name == "out_of_scope"


def test_close_alternatives() -> None:
    ranking = (IntentScore("points_balance", 0.46), IntentScore("points_expiry", 0.42),
               IntentScore("out_of_scope", 0.05), IntentScore("greet", 0.01))
    parse = Parse(text="积分", intent=ranking[0], intent_ranking=ranking)
    assert close_alternatives(parse, margin=0.08) == ("points_balance", "points_expiry")
    assert close_alternatives(parse, margin=0.01) == ()
