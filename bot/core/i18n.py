"""User-facing text from the locale files, in zh-Hans, zh-Hant (OpenCC-derived) and en."""

from __future__ import annotations

import json
import logging
import re
import string
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import opencc
import yaml

from bot.core.settings import LANGUAGES

log = logging.getLogger(__name__)
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
        traditional = dict(zip(simplified, to_traditional_many(list(simplified.values())),
                               strict=True))
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

    def section(self, language: str, prefix: str) -> dict[str, str]:
        """The texts under ``prefix`` in ``language``, by the rest of their key."""
        start = prefix + "."
        return {key.removeprefix(start): text for key, text in self._tables[language].items()
                if key.startswith(start)}

    def words(self, key: str) -> tuple[str, ...]:
        """What a customer may type for ``key`` (``words.cancel``…) in any language: the
        ``|``-separated words of every locale, the derived zh-Hant ones included."""
        found = {word.strip() for table in self._tables.values()
                 for word in table.get(key, "").split("|") if word.strip()}
        return tuple(sorted(found, key=lambda word: (-len(word), word)))

    def format_date(self, language: str, day: date) -> str:
        return self.text(language, "dates.format", year=day.year, month=day.month, day=day.day,
                         month_name=_MONTHS[day.month - 1])


@lru_cache(maxsize=1)
def translator() -> Translator:
    return Translator()


@cache
def words_pattern(key: str) -> str:
    """The words of ``key`` as a regex alternation (longest first; a space matches any run of
    spaces)."""
    return "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in translator().words(key))


def to_simplified(text: str) -> str:
    converted: str = _t2s().convert(text)
    return converted


@lru_cache(maxsize=1)
def _t2s() -> Any:
    return opencc.OpenCC("t2s")


# Simplified → Traditional (Taiwan-standard characters: 為, 啟; plain "s2t" gives forms, 爲,
# 啓, readers find odd) needs OpenCC's phrase dictionary to choose between 髮 and 發, 麵 and
# 面: about 45 MB of memory once loaded, for a few hundred fixed texts (the locale, FAQ
# answers, store and holiday names). A short-lived process converts them instead, and their
# conversions are kept here.
_CONVERT = ("import json, sys, opencc; converter = opencc.OpenCC('s2tw'); "
            "json.dump([converter.convert(t) for t in json.load(sys.stdin)], sys.stdout)")
_traditional: dict[str, str] = {}
_MAX_KEPT = 20_000


def to_traditional_many(texts: Sequence[str]) -> list[str]:
    """``texts`` in Traditional characters (Taiwan standard), phrase by phrase."""
    missing = [text for text in dict.fromkeys(texts) if text not in _traditional]
    if missing:
        if len(_traditional) + len(missing) > _MAX_KEPT:
            _traditional.clear()
        _traditional.update(zip(missing, _convert(missing), strict=True))
    return [_traditional[text] for text in texts]


def to_traditional(text: str) -> str:
    return to_traditional_many([text])[0]


def _convert(texts: list[str]) -> list[str]:
    try:
        # Our own interpreter and a fixed script; the texts go through stdin as JSON.
        done = subprocess.run([sys.executable, "-c", _CONVERT],  # noqa: S603
                              input=json.dumps(texts),
                              capture_output=True, text=True, timeout=120, check=True)
        converted = json.loads(done.stdout)
        if isinstance(converted, list) and len(converted) == len(texts):
            return [str(text) for text in converted]
        log.warning("OpenCC converter process answered %d texts for %d; converting here",
                    len(converted), len(texts))
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.warning("OpenCC converter process failed (%s); converting here",
                    exc.__class__.__name__)
    converter = opencc.OpenCC("s2tw")
    return [converter.convert(text) for text in texts]


@lru_cache(maxsize=1)
def _s2t() -> Any:
    """Character by character only (small dictionaries): enough to tell whether a text uses
    any character written differently in Traditional script."""
    share = Path(opencc.__file__).parent / "clib" / "share" / "opencc"
    config = {
        "name": "Kefu: Simplified to Traditional (Taiwan), characters only",
        "segmentation": {"type": "mmseg",
                         "dict": {"type": "ocd2", "file": str(share / "STCharacters.ocd2")}},
        "conversion_chain": [
            {"dict": {"type": "ocd2", "file": str(share / "STCharacters.ocd2")}},
            {"dict": {"type": "ocd2", "file": str(share / "TWVariants.ocd2")}},
        ],
    }
    path = Path(tempfile.gettempdir()) / "kefu-opencc-s2tw-characters.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return opencc.OpenCC(str(path))


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
