"""Tests for nlu.loader: the Rasa NLU YAML reader, and the shipped data's shape."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from nlu.errors import NluDataError
from nlu.evaluation import example_language
from nlu.intents import ALL_INTENTS, ENTITY_TYPES
from nlu.loader import load_nlu_dir, load_nlu_file, parse_nlu_yaml
from tests.nlu.conftest import DATA_DIR, HELDOUT

SAMPLE = """\
version: "3.1"
nlu:
- intent: bind_account
  metadata:
    language: zh-Hans
  examples: |
    - 绑定[13800000001](phone)
    - 我在[静安店]{"entity": "store", "value": "sh-jingan"}办的卡

    - plain text
- synonym: sh-jingan
  examples: |
    - 静安店
- regex: case_id
  examples: |
    - C-\\d{8}-\\d{4}
- lookup: city
  examples: |
    - 上海
"""


def test_reads_intents_entities_and_tables() -> None:
    data = parse_nlu_yaml(SAMPLE, "sample.yml")
    first, second, third = data.examples
    assert first.text == "绑定13800000001"
    assert first.intent == "bind_account"
    (phone,) = first.entities
    assert (phone.entity, phone.value, phone.start, phone.end) == ("phone", "13800000001", 2, 13)
    assert second.text == "我在静安店办的卡"
    (store,) = second.entities
    assert (store.entity, store.value, store.start, store.end) == ("store", "sh-jingan", 2, 5)
    assert third.text == "plain text"
    assert first.metadata == {"language": "zh-Hans"}
    assert data.synonyms == {"sh-jingan": ("静安店",)}
    assert data.regexes == {"case_id": (r"C-\d{8}-\d{4}",)}
    assert data.lookups == {"city": ("上海",)}


def test_examples_know_their_line() -> None:
    data = parse_nlu_yaml(SAMPLE, "sample.yml")
    assert [e.source for e in data.examples] == ["sample.yml:7", "sample.yml:8", "sample.yml:10"]


def test_list_form_examples_are_accepted() -> None:
    data = parse_nlu_yaml('nlu:\n- intent: greet\n  examples:\n  - text: hi\n  - hello\n')
    assert [e.text for e in data.examples] == ["hi", "hello"]


@pytest.mark.parametrize(
    ("source", "line", "problem"),
    [
        ("nlu:\n- intnet: greet\n  examples: |\n    - hi\n", 2, "unknown key 'intnet'"),
        ("nlu:\n- intent: greet\n  examples: |\n    - hi\n    hello\n", 5, "must start with '- '"),
        ('nlu:\n- intent: greet\n  examples: |\n    - [x]{"value": 1}\n', 4, "needs an \"entity\""),
        ("nlu:\n- intent: greet\n  examples: |\n    - [x]{oops}\n", 4, "not valid JSON"),
        ("nlu:\n- intent: greet\n", 2, "has no 'examples'"),
        ("nlu:\n- regex: r\n  examples: |\n    - (unclosed\n", 4, "invalid regex"),
        ("nlu:\n- intent: greet\n  examples: |\n    - hi\n  - oops: [\n", 5, "not valid YAML"),
        ("nlu:\n- intent: greet\n  synonym: x\n  examples: |\n    - hi\n", 2, "exactly one of"),
        ('version: "9.0"\nnlu: []\n', 1, "unsupported version"),
        ("nlu: 3\n", 1, "must be a list"),
    ],
)
def test_errors_name_file_line_and_problem(source: str, line: int, problem: str) -> None:
    with pytest.raises(NluDataError) as caught:
        parse_nlu_yaml(source, "bad.yml")
    assert caught.value.path == "bad.yml"
    assert caught.value.line == line
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"bad.yml:{line}: ")


def test_missing_directory_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(NluDataError, match="not a directory"):
        load_nlu_dir(tmp_path / "absent")
    with pytest.raises(NluDataError, match=r"holds no \.yml"):
        load_nlu_dir(tmp_path)
    broken = tmp_path / "broken.yml"
    broken.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(NluDataError, match="cannot be read"):
        load_nlu_file(broken)


def _language_counts(path: Path | None = None) -> Counter[tuple[str, str]]:
    data = load_nlu_file(path) if path else load_nlu_dir(DATA_DIR)
    return Counter((e.intent, example_language(e)) for e in data.examples)


def test_training_data_covers_every_intent_in_both_languages() -> None:
    counts = _language_counts()
    for intent in ALL_INTENTS:
        assert counts[(intent, "zh-Hans")] >= 40, intent
        assert counts[(intent, "en")] >= 15, intent
        assert counts[(intent, "zh-Hant")] >= 3, intent


def test_training_entities_use_the_contract_types() -> None:
    data = load_nlu_dir(DATA_DIR)
    used = {entity.entity for e in data.examples for entity in e.entities}
    assert used <= set(ENTITY_TYPES)
    assert set(data.intents) == set(ALL_INTENTS)


def test_heldout_is_separate_and_covers_every_intent_per_language() -> None:
    counts = _language_counts(HELDOUT)
    for intent in ALL_INTENTS:
        for language in ("zh-Hans", "zh-Hant", "en"):
            assert counts[(intent, language)] >= 8, (intent, language)
    training = {e.text.casefold() for e in load_nlu_dir(DATA_DIR).examples}
    heldout = load_nlu_file(HELDOUT).examples
    assert not [e.text for e in heldout if e.text.casefold() in training]
    assert HELDOUT.parent != DATA_DIR


def test_training_data_has_no_duplicates_or_conflicts() -> None:
    seen: dict[str, str] = {}
    for example in load_nlu_dir(DATA_DIR).examples:
        key = example.text.casefold()
        assert key not in seen, f"{example.source} repeats {seen[key]}"
        seen[key] = example.source
