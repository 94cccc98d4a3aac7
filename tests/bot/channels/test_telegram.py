import contextlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels import telegram
from bot.core.messages import Button, OutboundMessage
from kefu_sim import callback_update, contact_update, start_update, text_update


def test_text_message_becomes_inbound_keyed_by_chat_and_message() -> None:
    update = text_update("我的积分", user_id=42, chat_id=42)
    parsed = telegram.parse_update(update)
    assert parsed.inbound is not None
    assert parsed.inbound.sender_id == "42"
    assert parsed.inbound.text == "我的积分"
    msg_id = update["message"]["message_id"]
    assert parsed.inbound.message_id == f"m:42:{msg_id}"


def test_start_with_deep_link_payload() -> None:
    parsed = telegram.parse_update(start_update("bind_abc", user_id=7))
    assert parsed.inbound is not None
    assert parsed.inbound.text == "/start bind_abc"


def test_own_contact_is_verified_and_anothers_is_not() -> None:
    own = telegram.parse_update(contact_update("+8613800000003", user_id=5))
    assert own.inbound is not None
    assert own.inbound.verified_phone == "+8613800000003"
    assert own.inbound.text == "/bind_account"
    foreign = telegram.parse_update(contact_update("+8613800000003", user_id=5,
                                                   contact_user_id=6))
    assert foreign.inbound is not None
    assert foreign.inbound.verified_phone is None
    assert foreign.inbound.payload == "foreign_contact"


def test_callback_query_carries_the_payload_and_its_id() -> None:
    parsed = telegram.parse_update(callback_update("/points", user_id=9))
    assert parsed.inbound is not None
    assert parsed.inbound.text == "/points"
    assert parsed.callback_query_id
    assert parsed.inbound.message_id == f"cb:{parsed.callback_query_id}"


def test_groups_and_bots_are_ignored() -> None:
    group = text_update("hi", user_id=3, chat_id=-100123)
    assert telegram.parse_update(group).inbound is None


def test_blocking_the_bot_is_noticed() -> None:
    update = {"update_id": 5, "my_chat_member": {
        "chat": {"id": 77, "type": "private"}, "from": {"id": 77, "is_bot": False},
        "date": 0, "old_chat_member": {"status": "member"},
        "new_chat_member": {"status": "kicked"}}}
    parsed = telegram.parse_update(update)
    assert parsed.blocked is True
    assert parsed.chat_id == "77"


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from(["update_id", "message", "chat", "id",
                                                       "text", "from", "type", "contact",
                                                       "callback_query", "data"]), inner,
                                      max_size=5),
                    max_leaves=20))
def test_parser_never_fails_except_as_malformed(data: Any) -> None:
    with contextlib.suppress(telegram.MalformedUpdate):
        telegram.parse_update(data)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=12000))
def test_split_text_respects_the_limit_and_keeps_the_words(text: str) -> None:
    parts = telegram.split_text(text)
    assert all(len(part) <= telegram.MAX_TEXT for part in parts)
    assert "".join(parts).replace("\n", "").replace(" ", "") == \
        text.replace("\n", "").replace(" ", "")


def test_long_text_splits_with_buttons_on_the_last_part() -> None:
    message = OutboundMessage("telegram", "1", "段落。\n" * 1500,
                              buttons=(Button("积分", "/points"),))
    params = telegram.send_parameters(message)
    assert len(params) >= 2
    assert "reply_markup" not in params[0]
    assert params[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "/points"


def test_contact_request_uses_a_reply_keyboard() -> None:
    message = OutboundMessage("telegram", "1", "share?", request_contact=True)
    markup = telegram.send_parameters(message)[0]["reply_markup"]
    assert markup["keyboard"][0][0]["request_contact"] is True
