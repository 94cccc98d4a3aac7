"""The Rasa project the benchmark trains, generated from Kefu's own data (no Rasa needed here).

Rasa's REST channel needs a dialogue model; Kefu's intents are mapped one to one onto a response
each (``utter_<intent>``) by RulePolicy rules, so Rasa answers every message with one canned text
and its dialogue costs as little as a Rasa dialogue can. The NLU pipeline is
``nlu/rasa/config.yml`` unchanged, with the policy added; the training data is ``nlu/data``
copied as it is. The files go into a work folder (git-ignored) and the trained model is named by
a hash of everything that goes into it, so an unchanged project is trained once.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
NLU_DATA = ROOT / "nlu" / "data"
NLU_CONFIG = ROOT / "nlu" / "rasa" / "config.yml"
WORK = Path(__file__).resolve().parent / "work"
# Rasa's FallbackClassifier answers this intent below the threshold; Kefu says out_of_scope.
NLU_FALLBACK = "nlu_fallback"
# Bump when the generated files change shape, so an old model is not reused for them.
GENERATOR_VERSION = "1"


def response_name(intent: str) -> str:
    return f"utter_{intent}"


def response_text(intent: str) -> str:
    """The canned answer: short, and naming the intent so a reply can be checked."""
    return f"[{intent}]"


def build_domain(intents: Sequence[str], entities: Iterable[str]) -> dict[str, Any]:
    """One response per intent; entities are listed (DIET extracts them) but steer nothing."""
    return {
        "version": "3.1",
        "intents": list(intents),
        "entities": [{name: {"influence_conversation": False}} for name in sorted(set(entities))],
        "responses": {response_name(i): [{"text": response_text(i)}] for i in intents},
        "session_config": {"session_expiration_time": 60,
                           "carry_over_slots_to_new_session": False},
    }


def build_rules(intents: Sequence[str]) -> dict[str, Any]:
    """intent → its response for every intent, and nlu_fallback → the out_of_scope answer."""
    fallback = "out_of_scope" if "out_of_scope" in intents else intents[0]
    rules = [{"rule": f"answer {i}", "steps": [{"intent": i}, {"action": response_name(i)}]}
             for i in intents]
    rules.append({"rule": "answer nlu_fallback",
                  "steps": [{"intent": NLU_FALLBACK}, {"action": response_name(fallback)}]})
    return {"version": "3.1", "rules": rules}


def build_config(nlu_config: Mapping[str, Any]) -> dict[str, Any]:
    """Kefu's Rasa NLU pipeline as it is, plus the only policy the rules need."""
    config = dict(nlu_config)
    config["policies"] = [{"name": "RulePolicy"}]
    return config


def build_credentials() -> dict[str, Any]:
    return {"rest": None}


def annotated_entities(data_dir: Path = NLU_DATA) -> tuple[str, ...]:
    """Entity names annotated anywhere in the training data, in order of appearance."""
    from nlu.loader import load_nlu_dir

    names = (e.entity for example in load_nlu_dir(data_dir).examples for e in example.entities)
    return tuple(dict.fromkeys(names))


def training_intents(data_dir: Path = NLU_DATA) -> tuple[str, ...]:
    from nlu.loader import load_nlu_dir

    return load_nlu_dir(data_dir).intents


@dataclass(frozen=True, slots=True)
class Project:
    """The generated files, by path relative to the work folder, with their text."""

    files: Mapping[str, str]

    @property
    def digest(self) -> str:
        """SHA-256 over every file's path and text: the name of the model trained from them."""
        digest = hashlib.sha256(GENERATOR_VERSION.encode())
        for path in sorted(self.files):
            digest.update(b"\0" + path.encode() + b"\0" + self.files[path].encode())
        return digest.hexdigest()[:16]


def _dump(document: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(document), allow_unicode=True, sort_keys=False)


def build_project(intents: Sequence[str], entities: Iterable[str],
                  nlu_config: Mapping[str, Any], nlu_files: Mapping[str, str]) -> Project:
    files = {
        "config.yml": _dump(build_config(nlu_config)),
        "domain.yml": _dump(build_domain(intents, entities)),
        "credentials.yml": _dump(build_credentials()),
        "data/rules.yml": _dump(build_rules(intents)),
    }
    files.update({f"data/nlu/{name}": text for name, text in sorted(nlu_files.items())})
    return Project(files)


def kefu_project(data_dir: Path = NLU_DATA, config_path: Path = NLU_CONFIG) -> Project:
    """The project for Kefu's current data and Rasa pipeline."""
    nlu_files = {p.name: p.read_text(encoding="utf-8") for p in sorted(data_dir.glob("*.yml"))}
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    return build_project(training_intents(data_dir), annotated_entities(data_dir), config,
                         nlu_files)


def write_project(project: Project, work: Path = WORK) -> Path:
    """Write the files into ``work/project-<digest>`` (replacing an older copy) and return it."""
    target = work / f"project-{project.digest}"
    if target.exists():
        shutil.rmtree(target)
    for name, text in project.files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target
