"""The WeChat simulator through the real wechatpy client, and its pusher against a webhook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from typer.testing import CliRunner
from wechatpy import WeChatClient, create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException, WeChatClientException
from wechatpy.utils import check_signature

from kefu_sim import cli
from kefu_sim.limits import ManualClock
from kefu_sim.runner import serve_in_thread
from kefu_sim.wechat import WeChatSimConfig, WeChatSimulator
from kefu_sim.wechat_push import WeChatPusher
from kefu_sim.wechat_xml import (
    DEFAULT_ACCOUNT,
    event_message,
    new_encoding_aes_key,
    parse_xml,
    render_xml,
    text_message,
    voice_message,
)

APPID = "wx1234567890abcdef"
SECRET = "s" * 32
OPENID = "oAbCdEfGhIjKlMnOpQrStUvWxYz0"
PUSH_TOKEN = "kefu-push-token"
AES_KEY = new_encoding_aes_key()


def wechatpy_client(base_url: str, appid: str = APPID, secret: str = SECRET) -> WeChatClient:
    """wechatpy pointed at the simulator.

    API_BASE_URL moves the API calls, but WeChatClient.fetch_access_token hard-codes
    https://api.weixin.qq.com/cgi-bin/token, so the token URL needs an override too.
    """

    class SimulatorClient(WeChatClient):  # type: ignore[misc]
        API_BASE_URL = f"{base_url}/cgi-bin/"

        def fetch_access_token(self) -> dict[str, Any]:
            params = {"grant_type": "client_credential", "appid": appid, "secret": secret}
            result: dict[str, Any] = self._fetch_access_token(
                url=f"{base_url}/cgi-bin/token", params=params
            )
            return result

    return SimulatorClient(appid, secret, timeout=5)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> WeChatSimulator:
    return WeChatSimulator(WeChatSimConfig(appid=APPID, secret=SECRET, clock=clock))


@pytest.fixture
def base_url(sim: WeChatSimulator) -> Iterator[str]:
    with serve_in_thread(sim) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> WeChatClient:
    return wechatpy_client(base_url)


def errcode_of(call: Any, *args: Any) -> int | None:
    with pytest.raises(WeChatClientException) as caught:
        call(*args)
    code: int | None = caught.value.errcode
    return code


# --- API side through wechatpy ---------------------------------------------------------


def test_token_fetch_and_custom_send(sim: WeChatSimulator, client: WeChatClient) -> None:
    sim.record_interaction(OPENID, "message")

    first = client.message.send_text(OPENID, "您的积分是 120")
    second = client.message.send_text(OPENID, "还有什么可以帮您？")

    assert first["errcode"] == 0
    assert second["errcode"] == 0
    assert [m.text for m in sim.sent_to(OPENID)] == ["您的积分是 120", "还有什么可以帮您？"]
    assert sim.token_fetches == 1


def test_msgmenu_is_accepted_and_recorded(sim: WeChatSimulator, client: WeChatClient) -> None:
    sim.record_interaction(OPENID, "message")
    menu = {
        "head_content": "请选择",
        "list": [{"id": "points", "content": "查积分"}, {"id": "human", "content": "转人工"}],
        "tail_content": "",
    }

    client.message.send_msg_menu(OPENID, menu)

    [sent] = sim.sent
    assert sent.msgtype == "msgmenu"
    assert sent.payload["msgmenu"] == menu


def test_custom_send_outside_the_window_is_45015(
    sim: WeChatSimulator, client: WeChatClient, clock: ManualClock
) -> None:
    never_wrote = errcode_of(client.message.send_text, OPENID, "hello")
    sim.record_interaction(OPENID, "message")
    clock.advance(48 * 3600 + 1)
    window_closed = errcode_of(client.message.send_text, OPENID, "hello")

    assert never_wrote == 45015
    assert window_closed == 45015
    assert sim.sent == []


def test_quota_of_five_per_window_then_45047(sim: WeChatSimulator, client: WeChatClient) -> None:
    sim.record_interaction(OPENID, "message")
    for n in range(5):
        client.message.send_text(OPENID, f"part {n}")

    exhausted = errcode_of(client.message.send_text, OPENID, "sixth")
    sim.record_interaction(OPENID, "message")
    client.message.send_text(OPENID, "after the user wrote again")

    assert exhausted == 45047
    assert len(sim.sent) == 6
    assert sim.quota_left(OPENID) == 4


def test_menu_click_allows_three_within_a_minute(
    sim: WeChatSimulator, client: WeChatClient, clock: ManualClock
) -> None:
    sim.record_interaction(OPENID, "event")
    for _ in range(3):
        client.message.send_text(OPENID, "ok")
    exhausted = errcode_of(client.message.send_text, OPENID, "fourth")
    sim.record_interaction(OPENID, "event")
    clock.advance(61)
    expired = errcode_of(client.message.send_text, OPENID, "late")

    assert (exhausted, expired) == (45047, 45015)


def test_wrong_credentials_are_rejected(base_url: str) -> None:
    wrong_secret = wechatpy_client(base_url, secret="nope")
    wrong_appid = wechatpy_client(base_url, appid="wxnotmine")

    assert errcode_of(wrong_secret.fetch_access_token) == 40125
    assert errcode_of(wrong_appid.fetch_access_token) == 40013


def test_expired_token_answers_42001_and_wechatpy_refreshes_once(
    sim: WeChatSimulator, client: WeChatClient, clock: ManualClock, base_url: str
) -> None:
    sim.record_interaction(OPENID, "message")
    client.message.send_text(OPENID, "one")
    old_token = client.access_token
    clock.advance(7201)
    sim.record_interaction(OPENID, "message")

    raw = httpx.post(
        f"{base_url}/cgi-bin/message/custom/send",
        params={"access_token": old_token},
        content=b'{"touser": "x", "msgtype": "text", "text": {"content": "x"}}',
    ).json()
    client.message.send_text(OPENID, "two")

    assert raw["errcode"] == 42001
    assert sim.token_fetches == 2
    assert [m.text for m in sim.sent] == ["one", "two"]


def test_new_token_invalidates_the_old_after_the_overlap(
    sim: WeChatSimulator, base_url: str, clock: ManualClock
) -> None:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    sim.record_interaction(OPENID, "message")

    def send(token: str) -> int:
        body = {"touser": OPENID, "msgtype": "text", "text": {"content": "hi"}}
        url = f"{base_url}/cgi-bin/message/custom/send"
        code: int = httpx.post(url, params={"access_token": token}, json=body).json()["errcode"]
        return code

    old = httpx.get(f"{base_url}/cgi-bin/token", params=params).json()
    new = httpx.get(f"{base_url}/cgi-bin/token", params=params).json()
    during_overlap = send(old["access_token"])
    clock.advance(301)

    assert old["expires_in"] == 7200
    assert during_overlap == 0
    assert send(old["access_token"]) == 40001
    assert send(new["access_token"]) == 0
    assert send("") == 41001


def test_stable_token_is_reused_unless_forced(base_url: str, sim: WeChatSimulator) -> None:
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    url = f"{base_url}/cgi-bin/stable_token"

    first = httpx.post(url, json=body).json()
    again = httpx.post(url, json=body).json()
    forced = httpx.post(url, json={**body, "force_refresh": True}).json()

    assert first["access_token"] == again["access_token"]
    assert forced["access_token"] != first["access_token"]
    assert sim.token_fetches == 2


def test_injected_errcode_and_server_error(sim: WeChatSimulator, client: WeChatClient) -> None:
    sim.record_interaction(OPENID, "message")
    sim.fail_next(errcode=45009, endpoints=["message/custom/send"])
    sim.fail_next(http_status=503, endpoints=["message/custom/send"])

    quota = errcode_of(client.message.send_text, OPENID, "a")
    with pytest.raises(WeChatClientException) as server_error:
        client.message.send_text(OPENID, "b")
    client.message.send_text(OPENID, "c")

    assert quota == 45009
    assert server_error.value.response.status_code == 503
    assert [m.text for m in sim.sent] == ["c"]


def test_injected_40001_is_retried_by_wechatpy(sim: WeChatSimulator, client: WeChatClient) -> None:
    sim.record_interaction(OPENID, "message")
    client.message.send_text(OPENID, "warm up")
    sim.fail_next(errcode=40001, endpoints=["message/custom/send"])

    client.message.send_text(OPENID, "after refresh")

    assert sim.token_fetches == 2
    assert [m.text for m in sim.sent] == ["warm up", "after refresh"]


def test_template_send_and_unsubscribed_user(sim: WeChatSimulator, client: WeChatClient) -> None:
    data = {"points": {"value": "120"}}

    result = client.message.send_template(OPENID, "TPL_points", data)
    sim.record_interaction(OPENID, "unsubscribe")
    after_unsubscribe = errcode_of(client.message.send_template, OPENID, "TPL_points", data)
    missing_template = errcode_of(client.message.send_template, "oOther", "", data)

    assert result["errcode"] == 0
    assert sim.templates[0].msgid == result["msgid"]
    assert sim.templates[0].data == data
    assert after_unsubscribe == 43004
    assert missing_template == 40037


# --- push side against a small webhook --------------------------------------------------


class EchoWebhook:
    """A minimal Official Account webhook built only from wechatpy, to check the pusher."""

    def __init__(self, *, delays: list[float] | None = None, plain_in_safe: bool = False) -> None:
        self.crypto = WeChatCrypto(PUSH_TOKEN, AES_KEY, APPID)
        self.delays = list(delays or [])
        self.plain_in_safe = plain_in_safe
        self.raw_bodies: list[bytes] = []
        self.messages: list[Any] = []
        self.app = Starlette(routes=[Route("/wechat", self.handle, methods=["GET", "POST"])])

    async def handle(self, request: Request) -> Response:
        query = request.query_params
        try:
            check_signature(PUSH_TOKEN, query["signature"], query["timestamp"], query["nonce"])
        except (InvalidSignatureException, KeyError):
            return PlainTextResponse("bad signature", status_code=403)
        if request.method == "GET":
            return PlainTextResponse(query["echostr"])
        body = await request.body()
        self.raw_bodies.append(body)
        safe = query.get("encrypt_type") == "aes"
        try:
            xml = (
                self.crypto.decrypt_message(
                    body, query["msg_signature"], query["timestamp"], query["nonce"]
                )
                if safe
                else body.decode()
            )
        except InvalidSignatureException:
            return PlainTextResponse("bad msg_signature", status_code=403)
        message = parse_message(xml)
        self.messages.append(message)
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        if message.type == "event":
            return PlainTextResponse("success")
        text = message.recognition if message.type == "voice" else message.content
        reply = create_reply(f"echo: {text}", message).render()
        if safe and not self.plain_in_safe:
            reply = self.crypto.encrypt_message(reply, query["nonce"], query["timestamp"])
        return Response(reply, media_type="application/xml")


@pytest.fixture
def echo() -> EchoWebhook:
    return EchoWebhook()


@pytest.fixture
def echo_url(echo: EchoWebhook) -> Iterator[str]:
    with serve_in_thread(echo.app) as url:
        yield f"{url}/wechat"


@pytest.fixture
async def pusher(echo_url: str) -> AsyncIterator[WeChatPusher]:
    async with WeChatPusher(echo_url, token=PUSH_TOKEN, appid=APPID) as plain:
        yield plain


async def test_url_verification(pusher: WeChatPusher) -> None:
    assert await pusher.verify()
    assert not await pusher.verify(bad_signature=True)


async def test_plain_text_push_returns_the_passive_reply(
    pusher: WeChatPusher, echo: EchoWebhook
) -> None:
    result = await pusher.text(OPENID, "查积分")

    assert result.ok
    assert result.attempts == 1
    assert result.reply is not None
    assert result.reply["Content"] == "echo: 查积分"
    assert result.reply["ToUserName"] == OPENID
    assert echo.messages[0].source == OPENID
    assert echo.messages[0].target == DEFAULT_ACCOUNT


@pytest.mark.parametrize("mode", ["safe", "compat"])
async def test_encrypted_push_and_reply(echo_url: str, echo: EchoWebhook, mode: Any) -> None:
    async with WeChatPusher(
        echo_url, token=PUSH_TOKEN, appid=APPID, encoding_aes_key=AES_KEY, mode=mode
    ) as secure:
        result = await secure.text(OPENID, "绑定会员")

    raw = echo.raw_bodies[0].decode()
    assert "<Encrypt>" in raw
    assert ("绑定会员" in raw) == (mode == "compat")
    assert result.error is None
    assert result.reply is not None
    assert result.reply["Content"] == "echo: 绑定会员"
    assert "<Encrypt>" in result.body


async def test_safe_mode_rejects_a_plain_reply(echo_url: str) -> None:
    lazy = EchoWebhook(plain_in_safe=True)
    with serve_in_thread(lazy.app) as url:
        async with WeChatPusher(
            f"{url}/wechat", token=PUSH_TOKEN, appid=APPID, encoding_aes_key=AES_KEY, mode="safe"
        ) as secure:
            result = await secure.text(OPENID, "hi")

    assert not result.ok
    assert result.error is not None
    assert "encrypted" in result.error


async def test_events_and_voice_parse_as_wechatpy_expects(
    pusher: WeChatPusher, echo: EchoWebhook
) -> None:
    follow = await pusher.push(event_message("subscribe", event_key="qrscene_store42", ticket="T"))
    click = await pusher.event(OPENID, "CLICK", event_key="MY_POINTS")
    scan = await pusher.event(OPENID, "SCAN", event_key="store42", ticket="T")
    voice = await pusher.push(voice_message(recognition="我的积分", openid=OPENID))

    kinds = [getattr(m, "event", m.type) for m in echo.messages]
    assert kinds == ["subscribe_scan", "click", "scan", "voice"]
    assert echo.messages[0].scene_id == "store42"
    assert echo.messages[1].key == "MY_POINTS"
    assert (follow.reply, click.reply, scan.reply) == (None, None, None)
    assert follow.ok
    assert voice.reply is not None
    assert voice.reply["Content"] == "echo: 我的积分"


async def test_slow_reply_is_retried_with_the_same_msgid(echo_url: str) -> None:
    slow = EchoWebhook(delays=[0.8])
    with serve_in_thread(slow.app) as url:
        async with WeChatPusher(f"{url}/wechat", token=PUSH_TOKEN, timeout=0.5) as impatient:
            result = await impatient.push(text_message("hi", openid=OPENID, msg_id=1234567890123))

    assert result.attempts == 2
    assert result.reply is not None
    assert result.reply["Content"] == "echo: hi"
    assert [m.id for m in slow.messages] == [1234567890123, 1234567890123]


async def test_three_timeouts_give_up(echo_url: str) -> None:
    stuck = EchoWebhook(delays=[0.5, 0.5, 0.5])
    with serve_in_thread(stuck.app) as url:
        async with WeChatPusher(f"{url}/wechat", token=PUSH_TOKEN, timeout=0.2) as impatient:
            result = await impatient.text(OPENID, "anyone?")

    assert result.attempts == 3
    assert result.status_code is None
    assert result.error is not None
    assert "no response" in result.error
    assert len({m.id for m in stuck.messages}) == 1
    assert len(stuck.messages) == 3


async def test_pushes_open_and_close_the_window_on_the_api_side(
    sim: WeChatSimulator, client: WeChatClient, echo_url: str
) -> None:
    async with sim.pusher(echo_url, token=PUSH_TOKEN) as linked:
        await linked.text(OPENID, "hi")
        client.message.send_text(OPENID, "delivered through the customer-service API")
        await linked.event(OPENID, "unsubscribe")

    assert sim.quota_left(OPENID) == 0
    assert errcode_of(client.message.send_text, OPENID, "gone") == 43004
    assert [m.openid for m in sim.sent] == [OPENID]


async def test_pusher_reaches_an_in_process_app(echo: EchoWebhook) -> None:
    transport = httpx.ASGITransport(app=echo.app)
    async with (
        httpx.AsyncClient(transport=transport) as http,
        WeChatPusher("http://kefu.test/wechat", token=PUSH_TOKEN, client=http) as local,
    ):
        result = await local.text(OPENID, "ping")

    assert result.reply is not None
    assert result.reply["Content"] == "echo: ping"


async def test_control_route_pushes_to_the_configured_webhook(
    sim: WeChatSimulator, base_url: str, echo_url: str
) -> None:
    sim.push_defaults = {"url": echo_url, "token": PUSH_TOKEN}
    async with httpx.AsyncClient(base_url=base_url) as http:
        pushed = (await http.post("/_sim/push", json={"openid": OPENID, "text": "hey"})).json()

    assert pushed["reply"]["Content"] == "echo: hey"
    assert sim.quota_left(OPENID) == 5


def test_xml_builders_round_trip_awkward_text() -> None:
    tricky = "a]]>b <c> & 表情😀"

    fields = parse_xml(render_xml(text_message(tricky, openid=OPENID, msg_id=42)))

    assert fields["Content"] == tricky
    assert fields["MsgId"] == "42"
    assert fields["FromUserName"] == OPENID
    assert fields["ToUserName"].startswith("gh_")


async def test_cli_builds_a_simulator_with_the_requested_failures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(cli, "_serve", lambda app, host, port: served.update(app=app))
    args = ["wechat", "--appid", APPID, "--secret", SECRET, "--fail-errcode", "45009"]

    result = CliRunner().invoke(cli.app, args)
    refused = CliRunner().invoke(cli.app, ["wechat", "--mode", "safe"])
    transport = httpx.ASGITransport(app=served["app"])
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
        token = (await http.get("/cgi-bin/token", params=params)).json()["access_token"]
        body = {"touser": OPENID, "msgtype": "text", "text": {"content": "x"}}
        url = "/cgi-bin/message/custom/send"
        send = (await http.post(url, params={"access_token": token}, json=body)).json()

    assert result.exit_code == 0, result.output
    assert send["errcode"] == 45009
    assert refused.exit_code != 0
    assert "--aes-key" in refused.output
