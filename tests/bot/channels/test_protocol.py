"""The channel protocol: capabilities are read (not platform names), replies are cut to fit,
and the registry is the one place channels are known."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import Kefu, channel_registry
from bot.channels.base import UNREGISTERED, Capabilities, fit
from bot.channels.registry import ChannelRegistry
from bot.channels.text import split_text
from bot.channels.wechat.channel import CHANNEL as WECHAT
from bot.channels.wechat.reply import passive_share
from bot.core.messages import Button, InboundMessage, OutboundMessage


@dataclass(frozen=True, slots=True)
class Kiosk:
    """A made-up channel: what a new platform module would declare."""

    name: str
    capabilities: Capabilities

    def parse(self, text: str, /) -> list[InboundMessage]:
        return [InboundMessage(self.name, "k1", text, datetime.now(UTC))]

    def render(self, message: OutboundMessage, /) -> list[OutboundMessage]:
        return fit(message, self.capabilities)


def kiosk(name: str, **caps: object) -> Kiosk:
    values: dict[str, object] = {"max_text_chars": 500, "buttons": True,
                                 "contact_request": False, **caps}
    return Kiosk(name, Capabilities(**values))  # type: ignore[arg-type]


def test_every_platform_is_registered_once_with_its_capabilities() -> None:
    registry = channel_registry()
    assert {channel.name for channel in registry} == {"web", "console", "telegram", "wechat"}
    assert registry.capabilities("wechat").passive_reply is True
    assert registry.capabilities("wechat").buttons is False
    assert registry.capabilities("wechat").reply_window is not None
    assert registry.capabilities("telegram").contact_request is True
    assert registry.capabilities("nowhere") is UNREGISTERED
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(WECHAT)


def test_fit_keeps_buttons_and_contact_request_for_the_last_part() -> None:
    caps = Capabilities(max_text_chars=100, buttons=True, contact_request=True)
    message = OutboundMessage("kiosk", "k1", "word " * 70, (Button("Yes", "/affirm"),),
                              request_contact=True)
    parts = fit(message, caps)
    assert len(parts) == 4
    assert all(len(p.text) <= 100 for p in parts)
    assert [p.buttons for p in parts[:-1]] == [(), (), ()]
    assert parts[-1].buttons == message.buttons and parts[-1].request_contact
    assert not any(p.request_contact for p in parts[:-1])
    short = OutboundMessage("kiosk", "k1", "hi")
    assert fit(short, caps) == [short]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("积分会员。！ \nab"), min_size=0, max_size=3000))
def test_wechat_parts_fit_2048_bytes_and_keep_the_text(text: str) -> None:
    parts = WECHAT.render(OutboundMessage("wechat", "o1", text))
    assert all(len(p.text.encode()) <= 2048 for p in parts)
    assert "".join("".join(p.text for p in parts).split()) == "".join(text.split())


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=5000), st.integers(min_value=4, max_value=300))
def test_split_by_bytes_never_breaks_a_character(text: str, limit: int) -> None:
    parts = split_text(text, limit, measure="bytes")
    assert all(len(p.encode()) <= limit for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_passive_share_takes_what_fits_2048_bytes_together() -> None:
    assert passive_share(["a" * 1000, "b" * 1000, "c" * 50]) == 2  # 2,054 bytes with all
    assert passive_share(["a" * 1000, "b" * 1000, "c" * 44]) == 3  # exactly 2,048
    assert passive_share(["a" * 1000, "b" * 1047]) == 1  # 1000 + 2 + 1047 > 2048
    assert passive_share(["积" * 682]) == 1  # 2,046 bytes: one message fits alone
    assert passive_share([]) == 0


async def reply_to(kefu: Kefu, channel: str, text: str) -> list[OutboundMessage]:
    return await kefu.dialogue.handle(InboundMessage(channel, "k1", text, datetime.now(UTC),
                                                     message_id=f"{channel}:{text}"))


async def test_buttons_become_numbered_choices_where_the_capability_says_so(
        kefu: Kefu) -> None:
    kefu.services.channels.register(kiosk("kiosk-buttons", buttons=True))
    kefu.services.channels.register(kiosk("kiosk-plain", buttons=False))
    with_buttons = await reply_to(kefu, "kiosk-buttons", "")
    plain = await reply_to(kefu, "kiosk-plain", "")
    assert with_buttons[0].buttons
    assert not plain[0].buttons
    assert "\n1" in plain[0].text and with_buttons[0].buttons[0].title in plain[0].text


async def test_contact_is_requested_where_the_capability_says_so(kefu: Kefu) -> None:
    kefu.services.channels.register(kiosk("kiosk-contact", contact_request=True))
    kefu.services.channels.register(kiosk("kiosk-typed", contact_request=False))
    asked = await reply_to(kefu, "kiosk-contact", "/bind_account")
    typed = await reply_to(kefu, "kiosk-typed", "/bind_account")
    assert any(r.request_contact for r in asked)
    assert not any(r.request_contact for r in typed)


def test_wechat_writes_out_buttons_that_reach_it() -> None:
    survey = OutboundMessage("wechat", "o1", "请为本次购物打分",
                             (Button("1 很不满意", "/rate 1"), Button("2 不满意", "/rate 2")))
    [part] = WECHAT.render(survey)
    assert part.buttons == ()
    assert part.text == "请为本次购物打分\n1 很不满意\n2 不满意"


def test_a_registry_renders_unknown_channels_unchanged() -> None:
    message = OutboundMessage("elsewhere", "x", "y" * 10_000)
    assert ChannelRegistry().render(message) == [message]
