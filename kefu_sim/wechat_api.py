"""The HTTP side of the WeChat simulator: /cgi-bin routes and a small control API."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kefu_sim.wechat_xml import DEFAULT_OPENID, event_message, text_message

if TYPE_CHECKING:
    from kefu_sim.wechat import WeChatSimulator

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40008: "invalid message type",
    40013: "invalid appid",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    43004: "require subscribe",
    44004: "empty content",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
}
MSG_TYPES = frozenset(
    {
        "text",
        "image",
        "voice",
        "video",
        "music",
        "news",
        "mpnews",
        "msgmenu",
        "wxcard",
        "miniprogrampage",
    }
)

Handler = Callable[["WeChatSimulator", Request], Awaitable[dict[str, Any]]]


class WeChatApiError(Exception):
    """An errcode answer (WeChat sends these with HTTP 200)."""

    def __init__(self, errcode: int, errmsg: str | None = None) -> None:
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "unknown error")
        super().__init__(f"{errcode}: {self.errmsg}")

    def payload(self) -> dict[str, Any]:
        # Real errmsgs end with a request id; receivers must match errcode, never errmsg.
        rid = "-".join(secrets.token_hex(4) for _ in range(3))
        return {"errcode": self.errcode, "errmsg": f"{self.errmsg} rid: {rid}"}


async def _json_body(request: Request) -> dict[str, Any]:
    # wechatpy posts JSON bytes without a Content-Type, so never rely on the header.
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise WeChatApiError(47001) from exc
    if not isinstance(body, dict):
        raise WeChatApiError(47001)
    return body


async def token(sim: WeChatSimulator, request: Request) -> dict[str, Any]:
    query = request.query_params
    if query.get("grant_type") != "client_credential":
        raise WeChatApiError(40002)
    value, expires_in = sim.issue_token(
        query.get("appid", ""), query.get("secret", ""), family="token"
    )
    return {"access_token": value, "expires_in": expires_in}


async def stable_token(sim: WeChatSimulator, request: Request) -> dict[str, Any]:
    body = await _json_body(request)
    if body.get("grant_type") != "client_credential":
        raise WeChatApiError(40002)
    value, expires_in = sim.issue_token(
        str(body.get("appid", "")),
        str(body.get("secret", "")),
        family="stable_token",
        force_refresh=bool(body.get("force_refresh", False)),
    )
    return {"access_token": value, "expires_in": expires_in}


def _check_custom(body: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    openid, msgtype = body.get("touser"), body.get("msgtype")
    if not isinstance(openid, str) or not openid:
        raise WeChatApiError(40003)
    if msgtype not in MSG_TYPES:
        raise WeChatApiError(40008)
    payload = body.get(msgtype)
    if not isinstance(payload, dict):
        raise WeChatApiError(47001)
    if msgtype == "text" and not str(payload.get("content") or "").strip():
        raise WeChatApiError(44004)
    if msgtype == "msgmenu":
        items = payload.get("list")
        if (
            not isinstance(items, list)
            or not items
            or not all(isinstance(i, dict) and i.get("id") and i.get("content") for i in items)
        ):
            raise WeChatApiError(47001)
    return openid, msgtype, body


async def custom_send(sim: WeChatSimulator, request: Request) -> dict[str, Any]:
    sim.check_token(request.query_params.get("access_token"))
    openid, msgtype, body = _check_custom(await _json_body(request))
    sim.accept_custom(openid, msgtype, body)
    if sim.config.response_delay > 0:
        await asyncio.sleep(sim.config.response_delay)
    return {"errcode": 0, "errmsg": "ok"}


async def template_send(sim: WeChatSimulator, request: Request) -> dict[str, Any]:
    sim.check_token(request.query_params.get("access_token"))
    body = await _json_body(request)
    openid = body.get("touser")
    if not isinstance(openid, str) or not openid:
        raise WeChatApiError(40003)
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    url = body.get("url") if isinstance(body.get("url"), str) else None
    msgid = sim.accept_template(openid, str(body.get("template_id") or ""), data or {}, url)
    return {"errcode": 0, "errmsg": "ok", "msgid": msgid}


HANDLERS: dict[str, Handler] = {
    "token": token,
    "stable_token": stable_token,
    "message/custom/send": custom_send,
    "message/template/send": template_send,
}


def build_app(sim: WeChatSimulator) -> Starlette:
    """The ASGI app: ``/cgi-bin/<endpoint>`` plus ``/_sim/*`` control routes."""

    async def cgi_bin(request: Request) -> Response:
        endpoint = request.path_params["endpoint"].strip("/")
        handler = HANDLERS.get(endpoint)
        if handler is None:
            return PlainTextResponse("Not Found", status_code=404)
        failure = sim.check_injected(endpoint)
        if failure is not None and failure.http_status is not None:
            return PlainTextResponse("Server Error", status_code=failure.http_status)
        try:
            if failure is not None and failure.errcode is not None:
                raise WeChatApiError(failure.errcode, failure.errmsg)
            return JSONResponse(await handler(sim, request))
        except WeChatApiError as error:
            return JSONResponse(error.payload())

    async def control_push(request: Request) -> JSONResponse:
        body = await request.json()
        if not sim.push_defaults.get("url"):
            return JSONResponse(
                {"error": "no webhook: start with --webhook-url or set push_defaults['url']"}, 409
            )
        openid = str(body.get("openid", DEFAULT_OPENID))
        if "event" in body:
            fields = event_message(
                str(body["event"]), event_key=body.get("event_key"), openid=openid
            )
        else:
            fields = text_message(str(body.get("text", "")), openid=openid)
        async with sim.pusher(**sim.push_defaults) as pusher:
            result = await pusher.push(fields)
        return JSONResponse(
            {
                "attempts": result.attempts,
                "status": result.status_code,
                "reply": result.reply,
                "error": result.error,
            }
        )

    async def control_sent(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "custom": [asdict(m) for m in sim.sent],
                "template": [asdict(m) for m in sim.templates],
            }
        )

    async def control_fail(request: Request) -> JSONResponse:
        body = await request.json()
        allowed = {"count", "errcode", "errmsg", "http_status", "endpoints"}
        if not isinstance(body, dict) or not set(body) <= allowed:
            return JSONResponse({"error": f"keys must be among {sorted(allowed)}"}, 400)
        try:
            sim.fail_next(**body)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/cgi-bin/{endpoint:path}", cgi_bin, methods=["GET", "POST"]),
            Route("/_sim/push", control_push, methods=["POST"]),
            Route("/_sim/sent", control_sent, methods=["GET"]),
            Route("/_sim/fail", control_fail, methods=["POST"]),
        ]
    )
