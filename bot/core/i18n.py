"""User-facing text from the locale files, in zh-Hans, zh-Hant (OpenCC-derived) and en."""

from __future__ import annotations

import re
import string
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import opencc
import yaml

from bot.settings import LANGUAGES

LOCALES_DIR = Path(__file__).parent.parent / "locales"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


def _load(language: str) -> dict[str, str]:
    path = LOCALES_DIR / f"{language}.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return _flatten(data)


class _Keep(dict[str, Any]):
    """Leaves unknown placeholders visible instead of failing a reply over a typo."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Translator:
    """Looks up a key in the wanted language; falls back to zh-Hans, then to the key itself."""

    __slots__ = ("_tables",)

    def __init__(self) -> None:
        simplified = _load("zh-Hans")
        # Taiwan-standard characters (為, 啟): plain "s2t" gives forms (爲, 啓) readers find odd.
        converter = opencc.OpenCC("s2tw")
        traditional = {key: converter.convert(text) for key, text in simplified.items()}
        traditional.update(_load("zh-Hant"))
        self._tables = {"zh-Hans": simplified, "zh-Hant": traditional, "en": _load("en")}

    def text(self, language: str, key: str, /, **values: Any) -> str:
        table = self._tables.get(language) or self._tables["zh-Hans"]
        template = table.get(key) or self._tables["zh-Hans"].get(key)
        if template is None:
            return key
        return string.Formatter().vformat(template, (), _Keep(values))

    def keys(self, language: str) -> set[str]:
        return set(self._tables[language])

    def format_date(self, language: str, day: date) -> str:
        return self.text(language, "dates.format", year=day.year, month=day.month, day=day.day,
                         month_name=_MONTHS[day.month - 1])


@lru_cache(maxsize=1)
def translator() -> Translator:
    return Translator()


def to_simplified(text: str) -> str:
    converted: str = _t2s().convert(text)
    return converted


@lru_cache(maxsize=1)
def _t2s() -> Any:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _s2t() -> Any:
    return opencc.OpenCC("s2tw")


def detect_language(text: str, *, prefer: str | None = None) -> str | None:
    """The language a message is written in, from its script; ``None`` when it can't tell.

    Many short messages (好的, 不要, 谢谢 aside) look the same in both scripts: those keep
    ``prefer`` when it is a Chinese variant, so a zh-Hant member saying 不要 stays in zh-Hant.
    """
    han = [ch for ch in text if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"]
    if han:
        sample = "".join(han[:200])
        if to_simplified(sample) != sample:
            return "zh-Hant"
        if prefer == "zh-Hant" and _s2t().convert(sample) == sample:
            return "zh-Hant"
        return "zh-Hans"
    # Identifiers (SO2026112300001, C-20261123-0001) are no language: only words count.
    latin = sum(len(word) for word in re.findall(r"[A-Za-z0-9]+", text) if word.isalpha())
    return "en" if latin >= 2 else None


def normalize_language(value: str | None) -> str | None:
    """Accepts en, EN, zh, zh-cn, zh_TW, zh-Hant, 繁体, 简体, english … → a supported code."""
    if not value:
        return None
    key = value.strip().lower().replace("_", "-")
    aliases = {
        "en": "en", "english": "en", "英文": "en", "英语": "en", "英語": "en",
        "zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-hans": "zh-Hans", "zh-sg": "zh-Hans",
        "简体": "zh-Hans", "简体中文": "zh-Hans", "中文": "zh-Hans", "cn": "zh-Hans",
        "zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "zh-hant": "zh-Hant", "zh-mo": "zh-Hant",
        "繁体": "zh-Hant", "繁體": "zh-Hant", "繁体中文": "zh-Hant", "繁體中文": "zh-Hant",
    }
    code = aliases.get(key)
    return code if code in LANGUAGES else None
