"""Who may do what: roles, actions, the grants between them, and the guard for HTTP routes.

The one place that declares permissions. Its API, for the console and any other route:

- ``Role``, ``Action``: the vocabulary. ``allowed(role, action)`` answers from ``GRANTS``.
- ``Principal(actor, role)``: who is asking; ``actor`` is what the audit log records
  ("agent:lihua").
- ``set_authenticator(app, fn)``: ``fn(request) -> Principal | None`` (async) tells who sent a
  request (the console's session cookie, an API token). Without one, everyone is anonymous.
- ``require(action)``: a FastAPI dependency that returns the ``Principal`` or answers 401
  (anonymous) / 403 (role lacks the action; the refusal is audited). Use it as
  ``principal: Annotated[Principal, require(Action.VIEW_AUDIT)]`` or in
  ``dependencies=[require(...)]``.
- ``public(path)``: declares a route that needs no login (webhooks check their platform's
  signature instead). Every route of the app is either guarded by ``require`` or declared
  public; ``undeclared_routes(app)`` lists the others and a test fails on any.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.dependencies.models import Dependant
from starlette.routing import Mount


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    # Someone with a shell on the server running `kefu …`: trusted like the database owner.
    OPERATOR = "operator"


class Action(StrEnum):
    HANDLE_CONVERSATIONS = "handle_conversations"
    # Every case, not only one's own: assign them, see each agent's load and every breach.
    SUPERVISE_CASES = "supervise_cases"
    MANAGE_CANNED_REPLIES = "manage_canned_replies"
    VIEW_MEMBER = "view_member"  # masked personal data
    VIEW_PII_UNMASKED = "view_pii_unmasked"
    ADJUST_POINTS = "adjust_points"
    EXPORT_MEMBER = "export_member"
    ERASE_MEMBER = "erase_member"
    VIEW_PRIVACY_REQUESTS = "view_privacy_requests"
    VIEW_AUDIT = "view_audit"
    EXPORT_AUDIT = "export_audit"
    MANAGE_AGENTS = "manage_agents"
    RELOAD_CONFIG = "reload_config"
    ROTATE_KEYS = "rotate_keys"
    PURGE_DATA = "purge_data"


_AGENT = frozenset({Action.HANDLE_CONVERSATIONS, Action.VIEW_MEMBER})
_SUPERVISOR = _AGENT | {Action.SUPERVISE_CASES, Action.VIEW_PII_UNMASKED,
                        Action.ADJUST_POINTS, Action.VIEW_AUDIT,
                        Action.VIEW_PRIVACY_REQUESTS, Action.EXPORT_MEMBER}
_ADMIN = _SUPERVISOR | {Action.MANAGE_CANNED_REPLIES, Action.ERASE_MEMBER,
                        Action.EXPORT_AUDIT, Action.MANAGE_AGENTS,
                        Action.RELOAD_CONFIG, Action.PURGE_DATA}

GRANTS: dict[Role, frozenset[Action]] = {
    Role.AGENT: _AGENT,
    Role.SUPERVISOR: frozenset(_SUPERVISOR),
    Role.ADMIN: frozenset(_ADMIN),
    Role.OPERATOR: frozenset(Action),
}


def allowed(role: Role | str | None, action: Action) -> bool:
    if role is None:
        return False
    try:
        return action in GRANTS[Role(role)]
    except ValueError:  # an unknown role string (stale session, typo in the database)
        return False


@dataclass(frozen=True, slots=True)
class Principal:
    actor: str
    role: Role


Authenticator = Callable[[Request], Awaitable[Principal | None]]


async def _anonymous(_request: Request) -> Principal | None:
    return None


def set_authenticator(app: FastAPI, authenticate: Authenticator) -> None:
    app.state.authenticate = authenticate


async def current_principal(request: Request) -> Principal | None:
    authenticate: Authenticator = getattr(request.app.state, "authenticate", _anonymous)
    return await authenticate(request)


class _Guard:
    """The dependency behind :func:`require`; routes are recognised as guarded by it."""

    __slots__ = ("action",)

    def __init__(self, action: Action) -> None:
        self.action = action

    async def __call__(self, request: Request) -> Principal:
        principal = await current_principal(request)
        if principal is None:
            raise HTTPException(status_code=401, detail="sign in first",
                                headers={"WWW-Authenticate": "Session"})
        if not allowed(principal.role, self.action):
            await _audit_denial(request, principal, self.action)
            raise HTTPException(status_code=403,
                                detail=f"role {principal.role} may not {self.action}")
        request.state.principal = principal
        return principal


async def _audit_denial(request: Request, principal: Principal, action: Action) -> None:
    from bot.core import audit
    from bot.core.storage.db import transaction

    kefu = getattr(request.app.state, "kefu", None)
    if kefu is None:
        return
    async with transaction(kefu.sessions) as session:
        await audit.record(session, actor=principal.actor, action=audit.ACCESS_DENIED,
                           subject=request.url.path[:128],
                           detail={"needed": str(action), "role": str(principal.role)})


def require(action: Action) -> Any:
    """A dependency that lets through only principals whose role grants ``action``."""
    return Depends(_Guard(action))


# Routes anyone may call. Webhooks authenticate their platform themselves (signatures, secret
# tokens); the web chat is for anonymous visitors; the others reveal nothing personal.
PUBLIC_PATHS: set[str] = {
    "/", "/static", "/healthz", "/readyz", "/metrics", "/openapi.json",
    "/model/parse", "/webhooks/rest/webhook", "/webhooks/wechat", "/webhooks/telegram",
}


def public(path: str) -> str:
    """Declares ``path`` (a route's path template) public; returns it for inline use."""
    PUBLIC_PATHS.add(path)
    return path


# Routes that authenticate every request by an integration's signature (tills and shops
# posting purchases): no login, but nothing unsigned gets through (401).
SIGNED_PATHS: set[str] = set()


def signed(path: str) -> str:
    """Declares ``path`` signed: the route checks the request's signature itself."""
    SIGNED_PATHS.add(path)
    return path


def _guards(dependant: Dependant) -> Iterator[Action]:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, _Guard):
            yield dependency.call.action
        yield from _guards(dependency)


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """One route as served (router prefixes applied) and the rule that covers it."""

    path: str
    methods: frozenset[str]
    rule: Action | str | None
    mount: bool


def _contexts(app: FastAPI) -> Iterator[Any]:
    # FastAPI 0.16x keeps included routers lazily (their routes carry no prefix until
    # resolved); iter_route_contexts gives each route as served. Older FastAPI: plain routes.
    try:
        from fastapi.routing import iter_route_contexts  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # pragma: no cover - older FastAPI
        yield from app.routes
        return
    yield from iter_route_contexts(app.routes)


def route_rule(route: Any) -> Action | str | None:
    """``"public"``, ``"signed"``, the action guarding the route, or ``None`` when it has no
    rule.
    ``route``: a route of ``app.routes`` or a FastAPI route context."""
    dependant = getattr(route, "dependant", None)
    if isinstance(dependant, Dependant):
        actions = list(_guards(dependant))
        if actions:
            return actions[0]
    path = getattr(route, "path", None)
    if path is not None and path in PUBLIC_PATHS:
        return "public"
    if path is not None and path in SIGNED_PATHS:
        return "signed"
    return None


def app_routes(app: FastAPI) -> list[RouteInfo]:
    """Every route of ``app`` with its rule: what the authorization matrix test walks."""
    found = []
    for route in _contexts(app):
        original = getattr(route, "original_route", route)
        found.append(RouteInfo(path=str(getattr(route, "path", repr(route))),
                               methods=frozenset(getattr(route, "methods", None) or ()),
                               rule=route_rule(route),
                               mount=isinstance(original, Mount)))
    return found


def undeclared_routes(app: FastAPI) -> list[str]:
    """Routes that are neither guarded nor declared public: each is a security bug."""
    return [info.path for info in app_routes(app) if info.rule is None]
