"""Local Telegram and WeChat platform simulators for tests, benchmarks and manual runs."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kefu_sim.limits import ManualClock, SlidingWindow
    from kefu_sim.runner import serve_in_thread
    from kefu_sim.telegram import (
        ApiCall,
        SentMessage,
        TelegramSimConfig,
        TelegramSimulator,
        WebhookRegistration,
    )
    from kefu_sim.telegram_updates import (
        SECRET_TOKEN_HEADER,
        WebhookDelivery,
        callback_update,
        contact_update,
        next_update_id,
        push_update,
        start_update,
        text_update,
    )
    from kefu_sim.wechat import (
        CustomMessage,
        TemplateMessage,
        WeChatSimConfig,
        WeChatSimulator,
    )
    from kefu_sim.wechat_push import PushMode, PushResult, WeChatPusher
    from kefu_sim.wechat_xml import (
        event_message,
        new_encoding_aes_key,
        parse_xml,
        render_xml,
        signature,
        text_message,
        voice_message,
    )

# Each name is loaded from its module on first use (PEP 562): `kefu simulate --help` and a
# test that needs one simulator do not import them all.
_HOMES = {
    "ApiCall": "kefu_sim.telegram",
    "CustomMessage": "kefu_sim.wechat",
    "ManualClock": "kefu_sim.limits",
    "PushMode": "kefu_sim.wechat_push",
    "PushResult": "kefu_sim.wechat_push",
    "SECRET_TOKEN_HEADER": "kefu_sim.telegram_updates",
    "SentMessage": "kefu_sim.telegram",
    "SlidingWindow": "kefu_sim.limits",
    "TelegramSimConfig": "kefu_sim.telegram",
    "TelegramSimulator": "kefu_sim.telegram",
    "TemplateMessage": "kefu_sim.wechat",
    "WeChatPusher": "kefu_sim.wechat_push",
    "WeChatSimConfig": "kefu_sim.wechat",
    "WeChatSimulator": "kefu_sim.wechat",
    "WebhookDelivery": "kefu_sim.telegram_updates",
    "WebhookRegistration": "kefu_sim.telegram",
    "callback_update": "kefu_sim.telegram_updates",
    "contact_update": "kefu_sim.telegram_updates",
    "event_message": "kefu_sim.wechat_xml",
    "new_encoding_aes_key": "kefu_sim.wechat_xml",
    "next_update_id": "kefu_sim.telegram_updates",
    "parse_xml": "kefu_sim.wechat_xml",
    "push_update": "kefu_sim.telegram_updates",
    "render_xml": "kefu_sim.wechat_xml",
    "serve_in_thread": "kefu_sim.runner",
    "signature": "kefu_sim.wechat_xml",
    "start_update": "kefu_sim.telegram_updates",
    "text_message": "kefu_sim.wechat_xml",
    "text_update": "kefu_sim.telegram_updates",
    "voice_message": "kefu_sim.wechat_xml",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'kefu_sim' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


__all__ = [
    "SECRET_TOKEN_HEADER",
    "ApiCall",
    "CustomMessage",
    "ManualClock",
    "PushMode",
    "PushResult",
    "SentMessage",
    "SlidingWindow",
    "TelegramSimConfig",
    "TelegramSimulator",
    "TemplateMessage",
    "WeChatPusher",
    "WeChatSimConfig",
    "WeChatSimulator",
    "WebhookDelivery",
    "WebhookRegistration",
    "callback_update",
    "contact_update",
    "event_message",
    "new_encoding_aes_key",
    "next_update_id",
    "parse_xml",
    "push_update",
    "render_xml",
    "serve_in_thread",
    "signature",
    "start_update",
    "text_message",
    "text_update",
    "voice_message",
]
