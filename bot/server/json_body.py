"""One bounded JSON reader for every JSON route: nesting depth and number size are capped.

Python's decoder turns a 5,000-digit integer into a ``ValueError`` (the int-to-string limit)
and 100,000 nested brackets into a ``RecursionError``; neither is a ``JSONDecodeError``, so a
route catching only that answered 500 and the connection broke. Here every way a body can be
unacceptable is one :class:`JsonBodyError`, answered 400 like any invalid request (413 when
too large).

Routers whose routes take JSON use :class:`JsonRoute`: FastAPI's own body parsing then goes
through :func:`parse_json` too, and the body is read as JSON whatever its Content-Type, as
Rasa's REST channel does (``curl -d`` sends a form type).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

# Deep enough for any platform update (Telegram's are under 10 levels).
MAX_DEPTH = 32
# Far beyond any id or amount (a 64-bit id has 20 characters, a double 24), far below the
# 4,300 digits where Python refuses to convert (and conversion time grows quadratically).
MAX_NUMBER_CHARS = 100
# Telegram updates and web chat messages are a few kilobytes.
MAX_JSON_BYTES = 256 * 1024


class JsonBodyError(ValueError):
    """The body is not JSON Kefu accepts; ``status`` is the HTTP answer (400 or 413)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _number(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        if len(text) > MAX_NUMBER_CHARS:
            raise JsonBodyError(f"a number is longer than {MAX_NUMBER_CHARS} characters")
        number = kind(text)
        if isinstance(number, float) and not math.isfinite(number):  # 1e999
            raise JsonBodyError(f"number {text} is out of range")
        return number
    return parse


def _constant(name: str) -> Any:
    raise JsonBodyError(f"{name} is not a JSON number")


def _check_depth(value: Any, limit: int) -> None:
    """Walks the decoded value without recursion (the decoder itself stops at Python's
    recursion limit, a RecursionError caught below). Strings are the models' to check: a
    lone surrogate fails any ``str`` field, NUL is removed by the channels."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise JsonBodyError(f"JSON nested deeper than {limit} levels")
        stack.extend((child, depth + 1) for child in children)


def parse_json(raw: bytes, *, max_depth: int = MAX_DEPTH,
               max_bytes: int = MAX_JSON_BYTES) -> Any:
    """The decoded body.

    Raises:
        JsonBodyError: too large (413), not UTF-8, not JSON, nested too deep, or holding a
            number too long to be an id or an amount, NaN or Infinity (400).
    """
    if len(raw) > max_bytes:
        raise JsonBodyError(f"JSON body is larger than {max_bytes} bytes", 413)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise JsonBodyError("body is not UTF-8") from None
    try:
        value = json.loads(text, parse_int=_number(int), parse_float=_number(float),
                           parse_constant=_constant)
    except JsonBodyError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonBodyError(f"body is not JSON: {exc.msg} at position {exc.pos}") from None
    except RecursionError:
        raise JsonBodyError(f"JSON nested deeper than {max_depth} levels") from None
    except ValueError:  # any other limit of the decoder
        raise JsonBodyError("body is not acceptable JSON") from None
    _check_depth(value, max_depth)
    return value


async def read_json(request: Request) -> Any:
    """The request's body through :func:`parse_json`; refused as a validation error (400,
    the same answer as a body of the wrong shape) or 413."""
    try:
        return parse_json(await request.body())
    except JsonBodyError as exc:
        if exc.status != 400:
            raise HTTPException(status_code=exc.status, detail=str(exc)) from None
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",),
                                       "msg": str(exc), "input": {}}]) from None


class _JsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = await read_json(self)
        return self._json


_JSON_TYPE = (b"content-type", b"application/json")


class JsonRoute(APIRoute):
    """A route whose JSON body is read by :func:`read_json`, whatever its Content-Type."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            scope = dict(request.scope)
            scope["headers"] = [*(h for h in request.scope.get("headers", [])
                                  if h[0] != b"content-type"), _JSON_TYPE]
            bounded_request = _JsonRequest(scope, request.receive)
            if await bounded_request.body():
                # Parsed here rather than inside FastAPI, which would turn a refusal into
                # a reason-less "error parsing the body".
                await bounded_request.json()
            return await handler(bounded_request)

        return bounded
