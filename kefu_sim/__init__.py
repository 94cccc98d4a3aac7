"""Local Telegram and WeChat platform simulators for tests, benchmarks and manual runs."""

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
