"""Property-based API test: schemathesis against the app's own OpenAPI schema, in-process.

Every operation gets generated requests (bounded: MAX_EXAMPLES each); no answer may be a 5xx
and every answer must match the schema (status code, content type, body). Runs on SQLite
with the real embedded NLU and an admin principal, so guarded routes are exercised too.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import Request
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from bot.app import build_kefu
from bot.features.security.permissions import Principal, Role, set_authenticator
from bot.server.asgi import create_app
from bot.settings import AppSettings, DatabaseSettings, RateLimit, SecuritySettings
from tests.conftest import make_settings

MAX_EXAMPLES = 30
_WIDE_OPEN = RateLimit(requests=1_000_000, seconds=60)


async def _admin(_request: Request) -> Principal | None:
    return Principal(actor="agent:schemathesis", role=Role.ADMIN)


class Served:
    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient,
                 schema: Any) -> None:
        self.portal, self.client, self.schema = portal, client, schema

    def send(self, kwargs: dict[str, Any]) -> httpx.Response:
        body = kwargs.get("json")
        content = kwargs.get("data")
        request = partial(self.client.request, kwargs["method"], kwargs["url"],
                          headers=kwargs.get("headers"), params=kwargs.get("params"))
        if "json" in kwargs:
            return self.portal.call(partial(request, json=body))
        return self.portal.call(partial(request, content=content))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedded_nlu: Any) -> Iterator[Served]:
    root: Path = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite+aiosqlite:///{root / 'kefu.db'}"
    base = make_settings()
    settings = base.model_copy(update={
        "database_url": url, "database": DatabaseSettings(url=url),
        "app": AppSettings(**{**base.app.model_dump(), "data_dir": root / "data"}),
        "security": SecuritySettings(web_per_ip=_WIDE_OPEN, web_per_sender=_WIDE_OPEN,
                                     webhook_per_ip=_WIDE_OPEN, parse_per_ip=_WIDE_OPEN)})
    # One event loop owns the engine and the app for the whole module; hypothesis runs
    # synchronously and hands each request to it.
    with start_blocking_portal() as portal:
        kefu = portal.call(partial(build_kefu, settings, nlu=embedded_nlu, migrate=True))
        app = create_app(kefu, close_on_shutdown=False)
        set_authenticator(app, _admin)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                   base_url="http://kefu.test")
        schema = schemathesis.openapi.from_dict(app.openapi())
        try:
            yield Served(portal, client, schema)
        finally:
            portal.call(client.aclose)
            portal.call(kefu.aclose)


def test_every_operation_answers_without_5xx_and_as_documented(served: Served) -> None:
    operations = [result.ok() for result in served.schema.get_all_operations()]
    assert len(operations) >= 4
    tried: dict[str, int] = {}
    for operation in operations:
        _fuzz(served, operation, tried)
    assert all(count >= 1 for count in tried.values()) and len(tried) == len(operations)


def _fuzz(served: Served, operation: Any, tried: dict[str, int]) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        response = served.send(case.as_transport_kwargs(base_url="http://kefu.test"))
        assert response.status_code < 500, (label, response.status_code, response.text)
        case.validate_response(response)
        tried[label] = tried.get(label, 0) + 1

    check()
