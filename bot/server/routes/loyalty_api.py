"""POST /api/v1/purchases and /api/v1/refunds: tills and shops report sales, members earn.

Requests are signed per integration (see :mod:`bot.features.loyalty.integrations`); the raw body is
checked before it is parsed, so nothing unsigned is even read as JSON. A body is one object
or a list of up to 500 (a batch, each item accepted or refused by itself).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.features.loyalty import engine
from bot.features.loyalty.engine import Outcome, PurchaseIn, RefundIn, Refused
from bot.features.loyalty.integrations import SignatureRefused, authenticate
from bot.features.members.lookup import resolve_member
from bot.features.members.plugin import MemberDirectory, member_directory
from bot.features.security.permissions import signed

router = APIRouter(tags=["loyalty"])
MAX_BATCH = 500


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    ref: str = Field(min_length=1, max_length=100,
                     description="The source system's id of this record; a repeat changes "
                                 "nothing and is answered as before")
    amount: Decimal = Field(description='Yuan with at most two decimals, as a string ("128.00")')
    currency: str = Field(default="CNY", description="Only CNY is accepted")


class PurchaseBody(_Body):
    member: str = Field(min_length=1, max_length=64, description="Member number or phone")
    store: str | None = Field(default=None, max_length=64, description="Store code")
    occurred_at: datetime = Field(description="ISO 8601 with a time zone offset")


class RefundBody(_Body):
    purchase_ref: str = Field(min_length=1, max_length=100,
                              description="ref of the purchase being returned")
    occurred_at: datetime | None = Field(default=None, description="Default: now")


class Answer(BaseModel):
    ref: str
    member: str = Field(description="Member number")
    tier: str = Field(description="The tier the purchase earned at")
    points: int = Field(description="Signed change: earned (+) or taken back (-)")
    balance: int = Field(description="The member's points balance afterwards")


class BatchItem(BaseModel):
    ref: str | None
    status: int = Field(description="200 accepted (or a repeat), 409 or 422 refused")
    member: str | None = None
    tier: str | None = None
    points: int | None = None
    balance: int | None = None
    field: str | None = None
    error: str | None = None


class FieldError(BaseModel):
    error: str
    field: str = Field(description="The request field at fault")


def _document(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "oneOf": [schema, {"type": "array", "items": schema, "minItems": 1,
                           "maxItems": MAX_BATCH}]}}}}}


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "One answer, or for a batch a list with one item per record in "
                         "order", "model": Answer | list[BatchItem]},
    401: {"description": "Unsigned, wrongly signed, replayed or stale (over 300 s)"},
    409: {"description": "The ref was already used for a different record",
          "model": FieldError},
    422: {"description": "A field is wrong (unknown member, amount, currency, time, refund "
                         "beyond the purchase); the field is named", "model": FieldError},
}

Handler = Callable[[AsyncSession, Kefu, dict[str, Any], datetime, str, MemberDirectory | None],
                  Awaitable[Outcome]]


def _refused(exc: Refused) -> tuple[int, dict[str, Any]]:
    return (409 if exc.conflict else 422), {"error": str(exc), "field": exc.field}


def _validation_error(exc: ValidationError) -> Refused:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return Refused(field, f"{field}: {first.get('msg', 'invalid')}")


def _currency(body: _Body) -> None:
    if body.currency.upper() != "CNY":
        raise Refused("currency", f"currency {body.currency!r} is not accepted; amounts are "
                                  "CNY (yuan)")


async def _purchase(session: AsyncSession, kefu: Kefu, item: dict[str, Any], now: datetime,
                    source: str, plugin: MemberDirectory | None) -> Outcome:
    try:
        body = PurchaseBody.model_validate(item)
    except ValidationError as exc:
        raise _validation_error(exc) from None
    _currency(body)
    amount = engine.check_amount(body.amount)
    occurred_at = engine.check_time(body.occurred_at, now=now)
    found = await resolve_member(session, directory=kefu.directory, plugin=plugin,
                                 reference=body.member, settings=kefu.settings, now=now)
    if found is None:
        raise Refused("member", "no member with this member number or phone")
    return await engine.record_purchase(
        session, member=found.member, birthday=kefu.directory.birthday(found.member),
        purchase=PurchaseIn(body.ref, amount, occurred_at, body.store),
        settings=kefu.settings, now=now, source=source, tier=found.tier)


async def _refund(session: AsyncSession, kefu: Kefu, item: dict[str, Any], now: datetime,
                  source: str, plugin: MemberDirectory | None) -> Outcome:
    try:
        body = RefundBody.model_validate(item)
    except ValidationError as exc:
        raise _validation_error(exc) from None
    _currency(body)
    amount = engine.check_amount(body.amount)
    occurred_at = engine.check_time(body.occurred_at or now, now=now)
    return await engine.record_refund(
        session, refund=RefundIn(body.ref, body.purchase_ref, amount, occurred_at),
        settings=kefu.settings, now=now, source=source)


def _plugin(request: Request, kefu: Kefu) -> MemberDirectory | None:
    """The plugged-in member directory, built once per app (it may hold connections)."""
    state = request.app.state
    if not hasattr(state, "member_directory"):
        state.member_directory = member_directory(kefu.settings)
    plugin: MemberDirectory | None = state.member_directory
    return plugin


async def _serve(request: Request, handle: Handler) -> JSONResponse:
    kefu: Kefu = request.app.state.kefu
    plugin = _plugin(request, kefu)
    raw = await request.body()
    now = datetime.now(UTC)
    async with transaction(kefu.sessions) as session:
        try:
            integration = await authenticate(
                session, key_id=request.headers.get("x-kefu-key"),
                timestamp=request.headers.get("x-kefu-timestamp"),
                signature=request.headers.get("x-kefu-signature"), body=raw, now=now)
        except SignatureRefused as exc:
            return JSONResponse({"error": str(exc)}, status_code=401,
                                headers={"WWW-Authenticate": "Kefu-HMAC-SHA256"})
        try:
            # Decimal for every JSON number: amounts never pass through a float.
            payload = json.loads(raw, parse_float=Decimal)
        except (ValueError, RecursionError):
            return JSONResponse({"error": "the body is not valid JSON", "field": "body"},
                                status_code=422)
        source = integration.key_id
        if isinstance(payload, dict):
            try:
                outcome = await handle(session, kefu, payload, now, source, plugin)
            except Refused as exc:
                status, content = _refused(exc)
                return JSONResponse(content, status_code=status)
            headers = {"Kefu-Repeated": "true"} if outcome.repeated else None
            return JSONResponse(outcome.as_answer(), headers=headers)
        if not isinstance(payload, list) or not 1 <= len(payload) <= MAX_BATCH:
            return JSONResponse({"error": f"the body must be one object or a list of 1 to "
                                          f"{MAX_BATCH}", "field": "body"}, status_code=422)
        results: list[dict[str, Any]] = []
        for index, item in enumerate(payload):
            ref = item.get("ref") if isinstance(item, dict) else None
            try:
                if not isinstance(item, dict):
                    raise Refused(f"[{index}]", "each item of a batch must be an object")
                outcome = await handle(session, kefu, item, now, source, plugin)
            except Refused as exc:
                status, content = _refused(exc)
                results.append({"ref": ref if isinstance(ref, str) else None, "status": status,
                                **content})
                continue
            results.append({**outcome.as_answer(), "status": 200})
        return JSONResponse(results)


@router.post(signed("/api/v1/purchases"), responses=_RESPONSES,
             openapi_extra=_document(PurchaseBody))
async def post_purchases(request: Request) -> JSONResponse:
    """A purchase (or a batch): the member earns points by their tier's rule."""
    return await _serve(request, _purchase)


@router.post(signed("/api/v1/refunds"), responses=_RESPONSES,
             openapi_extra=_document(RefundBody))
async def post_refunds(request: Request) -> JSONResponse:
    """A refund (or a batch): the points the refunded share earned are taken back."""
    return await _serve(request, _refund)
