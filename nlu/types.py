"""Value types of a parse, serialisable to Rasa's /model/parse JSON shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity found in the text; ``value`` is normalised (E.164 phone, ISO date, ...)."""

    entity: str
    value: str | int
    start: int
    end: int
    extractor: str = "kefu"

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "extractor": self.extractor,
        }


@dataclass(frozen=True, slots=True)
class IntentScore:
    name: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "confidence": round(self.confidence, 4)}


@dataclass(frozen=True, slots=True)
class Parse:
    """The understanding of one text: the chosen intent, the ranking and entities."""

    text: str
    intent: IntentScore
    entities: tuple[Entity, ...] = ()
    intent_ranking: tuple[IntentScore, ...] = field(default=())

    def entity_values(self, name: str) -> list[str | int]:
        return [e.value for e in self.entities if e.entity == name]

    def first_entity(self, name: str) -> str | int | None:
        values = self.entity_values(name)
        return values[0] if values else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent.to_dict(),
            "entities": [e.to_dict() for e in self.entities],
            "intent_ranking": [s.to_dict() for s in self.intent_ranking],
        }
