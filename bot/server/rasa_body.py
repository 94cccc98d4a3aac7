"""Rasa's endpoints read a JSON body whatever the Content-Type; so do Kefu's copies of them.

``curl -d '{…}'`` sends ``application/x-www-form-urlencoded`` and clients written for Rasa rely
on the server ignoring it. FastAPI parses a body as JSON only when the type says so, so for the
Rasa-compatible paths the request's Content-Type is rewritten to JSON before routing; the body
itself is untouched, and what is not JSON still gets the usual 400.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

RASA_PATHS = frozenset({"/webhooks/rest/webhook", "/model/parse"})
_JSON = b"application/json"


class JsonWhateverContentType:
    """Treats the body of a POST to one of ``paths`` as JSON, as Rasa does."""

    def __init__(self, app: ASGIApp, *, paths: frozenset[str] = RASA_PATHS) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope.get("method") == "POST"
                and scope.get("path") in self.paths):
            headers = [(name, value) for name, value in scope.get("headers", [])
                       if name != b"content-type"]
            scope = {**scope, "headers": [*headers, (b"content-type", _JSON)]}
        await self.app(scope, receive, send)
