"""Runs every entity extractor and keeps non-overlapping results, most specific first."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from nlu.entities.dates import extract_dates
from nlu.entities.ids import extract_case_ids, extract_order_ids
from nlu.entities.phone import extract_phones
from nlu.entities.points import extract_points
from nlu.entities.tier import extract_tiers
from nlu.gazetteer import Gazetteer
from nlu.normalise import align_normalise
from nlu.types import Entity


class SynonymMap:
    """Rasa ``synonym:`` blocks: maps a found text (normalised) to its canonical value."""

    __slots__ = ("_value_of",)

    def __init__(self, synonyms: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self._value_of = {align_normalise(alias).strip(): name
                          for name, aliases in (synonyms or {}).items() for alias in aliases}

    def apply(self, entity: Entity, normalised: str) -> Entity:
        if isinstance(entity.value, int):
            return entity
        mapped = self._value_of.get(normalised[entity.start:entity.end].strip())
        if mapped is None or mapped == entity.value:
            return entity
        return Entity(entity.entity, mapped, entity.start, entity.end, entity.extractor)


def extract_entities(
    normalised: str,
    *,
    today: date,
    gazetteer: Gazetteer | None = None,
    synonyms: SynonymMap | None = None,
) -> tuple[Entity, ...]:
    """All entities in aligned-normalised text; offsets equal those of the original text.

    Identifiers come first so that digits inside an order or case id are not read as a phone,
    a date or an amount; among one extractor's results the longer span wins.
    """
    groups: list[list[Entity]] = [
        extract_case_ids(normalised),
        extract_order_ids(normalised),
        extract_phones(normalised),
        extract_dates(normalised, today=today),
        extract_points(normalised),
        gazetteer.find(normalised) if gazetteer is not None else [],
        extract_tiers(normalised),
    ]
    kept: list[Entity] = []
    for group in groups:
        for entity in sorted(group, key=lambda e: e.start - e.end):
            if all(entity.end <= other.start or other.end <= entity.start for other in kept):
                kept.append(entity)
    if synonyms is not None:
        kept = [synonyms.apply(entity, normalised) for entity in kept]
    return tuple(sorted(kept, key=lambda e: e.start))
