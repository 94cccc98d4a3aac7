"""The OpenAPI schema tells the truth about errors: Kefu answers 400 (not FastAPI's 422) for
invalid requests, any route may answer 404, 413, 429 or 503, and guarded routes and platform
webhooks 401 or 403."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from bot.features.security.permissions import Action, app_routes

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"},
                   "detail": {"type": "array", "items": {"type": "string"}}},
    "required": ["error"],
}
_ANSWERS = {
    "400": "Invalid request (the detail lists each problem)",
    "404": "Not found, or the channel is not configured",
    "413": "Request body too large",
    "429": "Too many requests (see the Retry-After header)",
    "503": "Temporarily unavailable",
}
_GUARDED = {"401": "Sign in first", "403": "The role may not do this"}


def document_errors(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = _ERROR
        guarded = {(route.path, method.lower()) for route in app_routes(app)
                   if isinstance(route.rule, Action) for method in route.methods}
        for path_name, path in schema.get("paths", {}).items():
            for method, operation in path.items():
                responses = operation.setdefault("responses", {})
                # FastAPI's own 422 is answered as 400 here; routes that do answer 422
                # document it themselves.
                if responses.get("422", {}).get("description") == "Validation Error":
                    responses.pop("422")
                answers = dict(_ANSWERS)
                # Guarded routes check the role; platform webhooks check the platform's
                # signature or secret token.
                platform = path_name.startswith("/webhooks/") and "/rest/" not in path_name
                if (path_name, method) in guarded or platform:
                    answers.update(_GUARDED)
                for code, description in answers.items():
                    responses.setdefault(code, {"description": description, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
