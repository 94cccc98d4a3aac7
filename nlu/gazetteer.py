"""Cities and stores by name: canonical names with aliases, matched longest first."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from nlu.normalise import align_normalise
from nlu.types import Entity

EXTRACTOR = "kefu.gazetteer"
_PLACE_ENTITIES = ("store", "city")


def _key(alias: str) -> str:
    return " ".join(align_normalise(alias).split())


class Gazetteer:
    """Finds ``city`` and ``store`` mentions; values are the canonical names given.

    Aliases are matched on normalised text (simplified script, half-width, lower case), so
    ``銅鑼灣店`` finds the alias ``铜锣湾店``. Latin aliases must stand as whole words. A
    one-character alias (沪, 京) matches only when it is the whole message, since inside a
    sentence it is usually part of another word (南京西路).
    """

    __slots__ = ("_canonical", "_pattern", "_single")

    def __init__(
        self,
        *,
        cities: Mapping[str, Iterable[str]] | None = None,
        stores: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self._canonical: dict[str, tuple[str, str]] = {}
        self._single: dict[str, tuple[str, str]] = {}
        # Stores first: when a store alias and a city alias are the same text, the store wins.
        for entity, table in (("store", stores or {}), ("city", cities or {})):
            for canonical, aliases in table.items():
                for alias in (canonical, *aliases):
                    key = _key(alias)
                    if not key:
                        continue
                    target = self._single if len(key) == 1 else self._canonical
                    target.setdefault(key, (entity, canonical))
        self._pattern = self._compile(self._canonical)

    @staticmethod
    def _compile(table: Mapping[str, tuple[str, str]]) -> re.Pattern[str] | None:
        if not table:
            return None
        parts = []
        for key in sorted(table, key=len, reverse=True):
            escaped = re.escape(key).replace(r"\ ", r"\s+")
            if key[0].isascii() and key[0].isalnum():
                escaped = r"(?<![a-z0-9])" + escaped
            if key[-1].isascii() and key[-1].isalnum():
                escaped += r"(?![a-z0-9])"
            parts.append(escaped)
        return re.compile("|".join(parts))

    @classmethod
    def from_lookup_tables(
        cls,
        lookups: Mapping[str, Iterable[str]],
        synonyms: Mapping[str, Iterable[str]] | None = None,
    ) -> Gazetteer:
        """Build from Rasa ``lookup: city``/``lookup: store`` tables.

        An entry that appears in a ``synonym:`` block gets that synonym's name as its canonical
        value; any other entry is its own canonical name.
        """
        canonical_of = {_key(alias): name for name, aliases in (synonyms or {}).items()
                        for alias in aliases}
        tables: dict[str, dict[str, list[str]]] = {"city": {}, "store": {}}
        for entity in _PLACE_ENTITIES:
            for entry in lookups.get(entity, ()):
                canonical = canonical_of.get(_key(entry), entry)
                tables[entity].setdefault(canonical, []).append(entry)
        return cls(cities=tables["city"], stores=tables["store"])

    def canonical(self, text: str) -> tuple[str, str] | None:
        """``(entity, canonical name)`` for an alias, or ``None``."""
        key = _key(text)
        return self._canonical.get(key) or self._single.get(key)

    def find(self, normalised: str) -> list[Entity]:
        """Mentions in already-normalised text (see :func:`nlu.normalise.align_normalise`)."""
        stripped = normalised.strip()
        if stripped in self._single:
            entity, canonical = self._single[stripped]
            start = normalised.index(stripped)
            return [Entity(entity, canonical, start, start + len(stripped), EXTRACTOR)]
        if self._pattern is None:
            return []
        found = []
        for match in self._pattern.finditer(normalised):
            key = " ".join(match.group(0).split())
            entity, canonical = self._canonical[key]
            found.append(Entity(entity, canonical, match.start(), match.end(), EXTRACTOR))
        return found
