"""The `alerts` config section: where on-call alerts go."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AlertsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # A WeCom (企业微信) group robot's webhook URL. Its `key` lets anyone post to the group:
    # prefer the environment (KEFU_ALERTS__WECOM_WEBHOOK_URL) to this file.
    wecom_webhook_url: str | None = None
    # A Telegram chat of the team (a numeric id such as -1001234567890, or @channelname);
    # alerts go through the bot of TELEGRAM_BOT_TOKEN, which must be a member of that chat.
    telegram_chat_id: str | None = Field(default=None, pattern=r"^(-?\d{1,20}|@\w{5,64})$")
    # What is sent: urgent cases at once (day or night), and every SLA breach.
    urgent_cases: bool = True
    breaches: bool = True
    language: str = Field(default="zh-Hans", pattern=r"^(zh-Hans|zh-Hant|en)$")

    @field_validator("wecom_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://qyapi.weixin.qq.com/cgi-bin/"
                             "webhook/send?key=…")
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.wecom_webhook_url or self.telegram_chat_id)
