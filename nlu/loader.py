"""Reader for Rasa 3 NLU YAML: intents, annotated entities, synonyms, regexes, lookups."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nlu.errors import NluDataError

_SECTION_KEYS = ("intent", "synonym", "regex", "lookup")
_ALLOWED_KEYS = frozenset({*_SECTION_KEYS, "examples", "metadata"})
# [text](entity) or [text]{"entity": "...", "value": "..."}
_ANNOTATION = re.compile(r"\[(?P<text>[^\[\]]+)\](?:\((?P<name>[^()]+)\)|(?P<json>\{[^{}]*\}))")


@dataclass(frozen=True, slots=True)
class AnnotatedEntity:
    """An entity marked in a training example; offsets are in the plain text."""

    entity: str
    value: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Example:
    """One training sentence with its intent, entities and where it was written."""

    text: str
    intent: str
    entities: tuple[AnnotatedEntity, ...] = ()
    source: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NluData:
    """Everything a set of NLU files holds."""

    examples: tuple[Example, ...] = ()
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    regexes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    lookups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def intents(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(example.intent for example in self.examples))

    def merge(self, other: NluData) -> NluData:
        return NluData(
            examples=self.examples + other.examples,
            synonyms=_merge_lists(self.synonyms, other.synonyms),
            regexes=_merge_lists(self.regexes, other.regexes),
            lookups=_merge_lists(self.lookups, other.lookups),
        )


def _merge_lists(
    left: Mapping[str, tuple[str, ...]], right: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    merged = dict(left)
    for key, values in right.items():
        merged[key] = tuple(dict.fromkeys(merged.get(key, ()) + values))
    return merged


def load_nlu_dir(directory: Path) -> NluData:
    """All ``*.yml``/``*.yaml`` files of ``directory`` (sorted by name), merged."""
    if not directory.is_dir():
        raise NluDataError(directory, None, "is not a directory of NLU training data")
    files = sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])
    if not files:
        raise NluDataError(directory, None, "holds no .yml files")
    return load_nlu_files(files)


def load_nlu_files(paths: Iterable[Path]) -> NluData:
    data = NluData()
    for path in paths:
        data = data.merge(load_nlu_file(path))
    return data


def load_nlu_file(path: Path) -> NluData:
    """Read one Rasa NLU YAML file.

    Raises:
        NluDataError: the file is unreadable or malformed; the message names file and line.
    """
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NluDataError(path, None, f"cannot be read: {exc}") from exc
    return parse_nlu_yaml(source, path)


def parse_nlu_yaml(source: str, path: Path | str = "<string>") -> NluData:
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or exc
        raise NluDataError(path, line, f"is not valid YAML: {problem}") from exc
    if root is None:
        return NluData()
    if not isinstance(root, yaml.MappingNode):
        raise NluDataError(path, _line(root), "must be a mapping with 'version' and 'nlu' keys")
    top = {_scalar(key, path): value for key, value in root.value}
    version = top.get("version")
    if version is not None and not _scalar(version, path).startswith(("3.", "2.")):
        raise NluDataError(path, _line(version), "unsupported version; write version: \"3.1\"")
    nlu = top.get("nlu")
    if nlu is None:
        return NluData()
    if not isinstance(nlu, yaml.SequenceNode):
        raise NluDataError(path, _line(nlu), "'nlu' must be a list of intent/synonym/regex/lookup")
    return _read_sections(nlu, path)


def _read_sections(nlu: yaml.SequenceNode, path: Path | str) -> NluData:
    examples: list[Example] = []
    tables: dict[str, dict[str, tuple[str, ...]]] = {"synonym": {}, "regex": {}, "lookup": {}}
    for item in nlu.value:
        if not isinstance(item, yaml.MappingNode):
            raise NluDataError(path, _line(item), "each 'nlu' item must be a mapping")
        fields = {_scalar(key, path): value for key, value in item.value}
        unknown = sorted(set(fields) - _ALLOWED_KEYS)
        if unknown:
            raise NluDataError(path, _line(item), f"unknown key {unknown[0]!r}; expected one of "
                               f"{', '.join(_SECTION_KEYS)}, examples, metadata")
        kinds = [key for key in _SECTION_KEYS if key in fields]
        if len(kinds) != 1:
            raise NluDataError(path, _line(item), "each item needs exactly one of "
                               f"{', '.join(_SECTION_KEYS)}")
        kind = kinds[0]
        name = _scalar(fields[kind], path).strip()
        if not name:
            raise NluDataError(path, _line(fields[kind]), f"empty {kind} name")
        if "examples" not in fields:
            raise NluDataError(path, _line(item), f"{kind} {name!r} has no 'examples'")
        metadata = _metadata(fields.get("metadata"), path)
        lines = _example_lines(fields["examples"], path)
        if kind == "intent":
            examples.extend(_example(text, name, f"{path}:{line}", line, path, metadata)
                            for text, line in lines)
        else:
            values = tuple(text for text, _ in lines)
            if kind == "regex":
                for text, line in lines:
                    _check_regex(text, line, path)
            table = tables[kind]
            table[name] = tuple(dict.fromkeys(table.get(name, ()) + values))
    return NluData(tuple(examples), tables["synonym"], tables["regex"], tables["lookup"])


def _example_lines(node: yaml.Node, path: Path | str) -> list[tuple[str, int]]:
    """``examples: |`` block lines (or a list of ``text:`` items) with their 1-based lines."""
    if isinstance(node, yaml.ScalarNode):
        body_line = node.start_mark.line + 2  # a literal block starts on the line after '|'
        found: list[tuple[str, int]] = []
        for offset, raw in enumerate(str(node.value).split("\n")):
            stripped = raw.strip()
            if not stripped:
                continue
            if not stripped.startswith("-"):
                raise NluDataError(path, body_line + offset,
                                   f"example must start with '- ', got {stripped[:30]!r}")
            text = stripped[1:].strip()
            if text:
                found.append((text, body_line + offset))
        return found
    if isinstance(node, yaml.SequenceNode):
        items: list[tuple[str, int]] = []
        for child in node.value:
            if isinstance(child, yaml.MappingNode):
                fields = {_scalar(key, path): value for key, value in child.value}
                if "text" not in fields:
                    raise NluDataError(path, _line(child), "example item needs a 'text' key")
                items.append((_scalar(fields["text"], path).strip(), _line(fields["text"])))
            else:
                items.append((_scalar(child, path).strip(), _line(child)))
        return [(text, line) for text, line in items if text]
    raise NluDataError(path, _line(node), "'examples' must be a '|' block of '- ' lines")


def _example(text: str, intent: str, source: str, line: int, path: Path | str,
             metadata: Mapping[str, str]) -> Example:
    plain: list[str] = []
    entities: list[AnnotatedEntity] = []
    cursor = 0
    length = 0
    for match in _ANNOTATION.finditer(text):
        before = text[cursor:match.start()]
        plain.append(before)
        length += len(before)
        shown = match.group("text")
        entity, value = _annotation(match, line, path)
        entities.append(AnnotatedEntity(entity, value if value is not None else shown,
                                        length, length + len(shown), shown))
        plain.append(shown)
        length += len(shown)
        cursor = match.end()
    plain.append(text[cursor:])
    result = "".join(plain)
    if "](" in result or "]{" in result:
        raise NluDataError(path, line, f"malformed entity annotation in {text!r}")
    return Example(result, intent, tuple(entities), source, metadata)


def _annotation(match: re.Match[str], line: int, path: Path | str) -> tuple[str, str | None]:
    name = match.group("name")
    if name is not None:
        return name.strip(), None
    try:
        spec = json.loads(match.group("json"))
    except json.JSONDecodeError as exc:
        raise NluDataError(path, line, f"entity annotation is not valid JSON: "
                           f"{match.group('json')!r} ({exc.msg})") from exc
    if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str):
        raise NluDataError(path, line, f"entity annotation needs an \"entity\" name: "
                           f"{match.group('json')!r}")
    value = spec.get("value")
    return spec["entity"], None if value is None else str(value)


def _check_regex(pattern: str, line: int, path: Path | str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise NluDataError(path, line, f"invalid regex {pattern!r}: {exc}") from exc


def _metadata(node: yaml.Node | None, path: Path | str) -> dict[str, str]:
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise NluDataError(path, _line(node), "'metadata' must be a mapping")
    return {_scalar(key, path): _scalar(value, path) for key, value in node.value}


def _scalar(node: yaml.Node, path: Path | str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise NluDataError(path, _line(node), "expected a plain value here")
    return str(node.value)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
