"""The Rasa backend: asks a Rasa server's /model/parse, falls back to another backend on failure."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from nlu.confidence import RANKING_LENGTH, choose
from nlu.intents import OUT_OF_SCOPE
from nlu.protocol import NluBackend
from nlu.types import Entity, IntentScore, Parse

logger = logging.getLogger(__name__)

# Rasa's FallbackClassifier names its low-confidence intent this; Kefu's name is out_of_scope.
_RASA_FALLBACK = "nlu_fallback"

EntityExtractor = Callable[[str, str], tuple[Entity, ...]]


class RasaResponseError(ValueError):
    """The server answered, but not with a parse in Rasa's shape."""


def parse_from_rasa(text: str, body: Any, *, threshold: float | None = None) -> Parse:
    """Convert a Rasa ``/model/parse`` JSON body into a :class:`Parse`.

    Raises:
        RasaResponseError: the body is not in Rasa's shape.
    """
    try:
        intent = body["intent"]
        ranking = tuple(
            IntentScore(_name(item["name"]), float(item["confidence"]))
            for item in body.get("intent_ranking") or [intent]
        )[:RANKING_LENGTH]
        top = IntentScore(_name(intent["name"]), float(intent["confidence"]))
        entities = tuple(
            Entity(str(e["entity"]), _value(e["value"]), int(e["start"]), int(e["end"]),
                   str(e.get("extractor") or "rasa"))
            for e in body.get("entities") or []
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RasaResponseError(f"not a Rasa parse: {exc!r}") from exc
    if threshold is not None:
        top = choose((top,), threshold)
    return Parse(text=text, intent=top, entities=entities, intent_ranking=ranking)


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"intent name {value!r}")
    return OUT_OF_SCOPE if value == _RASA_FALLBACK else value


def _value(value: Any) -> str | int:
    return value if isinstance(value, int) and not isinstance(value, bool) else str(value)


class RasaNlu:
    """Implements :class:`~nlu.protocol.NluBackend` by calling a Rasa 3 server.

    Any failure (connection refused, timeout, HTTP error, a body not in Rasa's shape) makes it
    answer with ``fallback`` instead; ``fallbacks`` counts those answers and a warning is
    logged without the customer's text. With ``entities`` given, Kefu's own extractors supply
    the entities, so values stay normalised (E.164 phones, ISO dates) whatever Rasa returns.
    """

    __slots__ = ("_client", "_entities", "_params", "fallback", "fallbacks", "last_failure",
                 "threshold", "timeout", "url")

    def __init__(
        self,
        *,
        url: str,
        token: str | None,
        timeout: float,
        fallback: NluBackend,
        threshold: float | None = None,
        entities: EntityExtractor | None = None,
    ) -> None:
        self.url = url.rstrip("/") + "/model/parse"
        self.timeout = timeout
        self.fallback = fallback
        self.threshold = threshold
        self.fallbacks = 0
        self.last_failure: str | None = None
        # Rasa's --auth-token is checked against the ``token`` query parameter.
        self._params: Mapping[str, str] = {"token": token} if token else {}
        self._entities = entities
        self._client: httpx.AsyncClient | None = None

    async def parse(self, text: str, *, timezone: str = "Asia/Shanghai") -> Parse:
        try:
            parse = await self._ask_rasa(text)
        except (httpx.HTTPError, RasaResponseError, ValueError) as exc:
            return await self._fall_back(text, timezone, exc)
        if self._entities is not None:
            parse = Parse(text=parse.text, intent=parse.intent,
                          entities=self._entities(text, timezone),
                          intent_ranking=parse.intent_ranking)
        return parse

    async def _ask_rasa(self, text: str) -> Parse:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout))
        response = await self._client.post(self.url, json={"text": text}, params=self._params)
        if response.status_code != httpx.codes.OK:
            raise RasaResponseError(f"HTTP {response.status_code}")
        return parse_from_rasa(text, response.json(), threshold=self.threshold)

    async def _fall_back(self, text: str, timezone: str, exc: Exception) -> Parse:
        self.fallbacks += 1
        self.last_failure = f"{type(exc).__name__}: {exc}"[:200]
        # The customer's text stays out of the log: it may hold a phone number or a complaint.
        logger.warning("nlu: Rasa at %s failed (%s); answered with the fallback backend "
                       "(%d fallbacks so far)", self.url, self.last_failure, self.fallbacks)
        return await self.fallback.parse(text, timezone=timezone)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
