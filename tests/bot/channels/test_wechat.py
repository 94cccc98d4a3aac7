import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto

from bot.channels import wechat
from bot.core.messages import UNSUBSCRIBED_EVENT
from kefu_sim import (
    event_message,
    new_encoding_aes_key,
    parse_xml,
    render_xml,
    signature,
    text_message,
    voice_message,
)

TOKEN, APPID = "kefu-token", "wx1234567890abcdef"
KEY, OLD_KEY = new_encoding_aes_key(), new_encoding_aes_key()
KEYS = wechat.WeChatKeys(TOKEN, APPID, (KEY, OLD_KEY))
PLAIN_KEYS = wechat.WeChatKeys(TOKEN, APPID)  # an account in plain mode: no EncodingAESKey


def plain(fields: dict[str, str | int], token: str = TOKEN) -> tuple[bytes, dict[str, str]]:
    ts, nonce = str(int(time.time())), "n0nce"
    return render_xml(fields).encode(), {"timestamp": ts, "nonce": nonce,
                                         "signature": signature(token, ts, nonce)}


def safe(fields: dict[str, str | int], key: str = KEY) -> tuple[bytes, dict[str, str]]:
    ts, nonce = str(int(time.time())), "n0nce"
    encrypted = WeChatCrypto(TOKEN, key, APPID).encrypt_message(render_xml(fields), nonce, ts)
    outer = parse_xml(encrypted)
    body = f"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[{outer['Encrypt']}]]></Encrypt></xml>"
    return body.encode(), {"timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
                           "signature": signature(TOKEN, ts, nonce),
                           "msg_signature": outer["MsgSignature"]}


def test_url_verification() -> None:
    ts, nonce = "1700000000", "abc"
    assert wechat.verify_url(KEYS, signature=signature(TOKEN, ts, nonce), timestamp=ts,
                             nonce=nonce, echostr="echo123") == "echo123"
    with pytest.raises(wechat.WeChatRequestError) as info:
        wechat.verify_url(KEYS, signature="0" * 40, timestamp=ts, nonce=nonce, echostr="x")
    assert info.value.status == 403


def test_plain_text_message() -> None:
    fields = text_message("我的积分", openid="oUser1", msg_id=123456)
    envelope = wechat.open_envelope(*plain(fields), PLAIN_KEYS)
    inbound = wechat.to_inbound(envelope.fields)
    assert inbound is not None
    assert (inbound.sender_id, inbound.text, inbound.message_id) == ("oUser1", "我的积分",
                                                                     "msg:123456")
    assert inbound.opens_window == "message"
    assert envelope.reply_key is None


def test_plain_push_to_an_account_with_an_aes_key_is_refused() -> None:
    fields = text_message("我的积分", openid="oUser1", msg_id=123457)
    with pytest.raises(wechat.WeChatRequestError) as info:
        wechat.open_envelope(*plain(fields), KEYS)
    assert info.value.status == 403
    assert "accept_plain" in str(info.value)
    envelope = wechat.open_envelope(*plain(fields), KEYS, accept_plain=True)
    assert envelope.fields["Content"] == "我的积分"


def test_wrong_signature_is_403() -> None:
    body, params = plain(text_message("hi"), token="other-token")
    with pytest.raises(wechat.WeChatRequestError) as info:
        wechat.open_envelope(body, params, KEYS)
    assert info.value.status == 403


@pytest.mark.parametrize("key", [KEY, OLD_KEY], ids=["current", "previous"])
def test_safe_mode_decrypts_with_current_and_previous_key(key: str) -> None:
    envelope = wechat.open_envelope(*safe(text_message("余额", openid="oU2"), key=key), KEYS)
    assert envelope.fields["Content"] == "余额"
    assert envelope.reply_key == key
    reply = wechat.render_reply(envelope.fields, "您有100分", keys=KEYS,
                                reply_key=envelope.reply_key, nonce="xyz")
    decrypted = WeChatCrypto(TOKEN, key, APPID).decrypt_message(
        reply, parse_xml(reply)["MsgSignature"], parse_xml(reply)["TimeStamp"], "xyz")
    assert parse_xml(decrypted)["Content"] == "您有100分"
    assert parse_xml(decrypted)["ToUserName"] == "oU2"


def test_safe_mode_with_an_unknown_key_is_403() -> None:
    body, params = safe(text_message("hi"), key=new_encoding_aes_key())
    with pytest.raises(wechat.WeChatRequestError) as info:
        wechat.open_envelope(body, params, KEYS)
    assert info.value.status == 403


@pytest.mark.parametrize(
    "body",
    [
        b"not xml",
        b"<xml><a>unclosed</xml>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<xml><Content>&b;</Content></xml>",
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><C>&e;</C></xml>',
        b"<other><x>1</x></other>",
        # Any DTD, even one without entities: WeChat never sends one.
        b"<!DOCTYPE xml><xml><ToUserName>gh</ToUserName><Content>hi</Content></xml>",
        b'<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://example.com/x.dtd"><xml></xml>',
    ],
)
def test_malformed_and_dangerous_xml_is_400(body: bytes) -> None:
    ts, nonce = "1", "2"
    params = {"timestamp": ts, "nonce": nonce, "signature": signature(TOKEN, ts, nonce)}
    with pytest.raises(wechat.WeChatRequestError) as info:
        wechat.open_envelope(body, params, PLAIN_KEYS)
    assert info.value.status == 400


def test_oversized_body_is_413() -> None:
    with pytest.raises(wechat.WeChatRequestError) as info:
        wechat.open_envelope(b"<xml>" + b"a" * 70_000 + b"</xml>", {}, KEYS)
    assert info.value.status == 413


def test_events_and_voice() -> None:
    subscribe = wechat.to_inbound({k: str(v) for k, v in event_message(
        "subscribe", event_key="qrscene_store42", openid="oE").items()})
    assert subscribe is not None and subscribe.text == "/start store42"
    assert subscribe.opens_window == "event"
    assert subscribe.message_id is not None and subscribe.message_id.startswith("ev:oE:")
    gone = wechat.to_inbound({k: str(v) for k, v in event_message("unsubscribe").items()})
    assert gone is not None and gone.payload == UNSUBSCRIBED_EVENT and gone.text == ""
    click = wechat.to_inbound({k: str(v) for k, v in event_message(
        "CLICK", event_key="/points").items()})
    assert click is not None and click.text == "/points"
    assert wechat.to_inbound({k: str(v) for k, v in event_message("VIEW").items()}) is None
    heard = wechat.to_inbound({k: str(v) for k, v in voice_message(
        recognition="我的积分还有多少").items()})
    assert heard is not None and heard.text == "我的积分还有多少"
    unheard = wechat.to_inbound({k: str(v) for k, v in voice_message().items()})
    assert unheard is not None and unheard.payload == "voice_unrecognised"


def test_missing_sender_is_400() -> None:
    with pytest.raises(wechat.WeChatRequestError) as info:
        wechat.to_inbound({"MsgType": "text", "Content": "hi"})
    assert info.value.status == 400


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000) | st.text(max_size=2000).map(str.encode))
def test_any_body_is_accepted_or_refused_with_a_4xx(body: bytes) -> None:
    ts, nonce = "1", "2"
    params = {"timestamp": ts, "nonce": nonce, "signature": signature(TOKEN, ts, nonce)}
    status = 200
    try:
        envelope = wechat.open_envelope(body, params, PLAIN_KEYS)
        wechat.to_inbound(envelope.fields)
    except wechat.WeChatRequestError as exc:
        status = exc.status
    assert 200 <= status < 500
