"""Where one-time codes go: the log (demo) or an SMS provider over HTTP."""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

from bot.core.crypto import mask_phone
from bot.core.errors import ConfigError, KefuError
from bot.settings import Settings

log = logging.getLogger(__name__)


class CodeNotSent(KefuError):
    """The provider did not accept the code; the customer is asked to try again later."""


class CodeSender(Protocol):
    """Delivers a one-time code to a phone number.

    Args:
        phone: the number in E.164.
        code: the digits to deliver (only for providers that fill their own template).
        text: the whole message in the customer's language, code included.

    Raises:
        CodeNotSent: the code did not go out; nothing should be retried automatically.
    """

    async def send(self, *, phone: str, code: str, text: str, language: str) -> None: ...


class LogCodeSender:
    """The demo sender: writes the code to the log instead of sending an SMS."""

    __slots__ = ()

    async def send(self, *, phone: str, code: str, text: str, language: str) -> None:
        # The number stays masked: logs are read by more people than personal data may be.
        log.warning("demo SMS to %s (no SMS sent; configure sms.provider): code %s",
                    mask_phone(phone), code)


class HttpCodeSender:
    """Posts ``{"phone", "code", "language", "text"}`` as JSON to an SMS provider's gateway."""

    __slots__ = ("_timeout", "_token", "_transport", "_url")

    def __init__(self, *, url: str, token: str | None, timeout: float,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._url, self._token, self._timeout = url, token, timeout
        self._transport = transport

    async def send(self, *, phone: str, code: str, text: str, language: str) -> None:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        body = {"phone": phone, "code": code, "language": language, "text": text}
        try:
            async with httpx.AsyncClient(timeout=self._timeout,
                                         transport=self._transport) as client:
                response = await client.post(self._url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise CodeNotSent(f"SMS gateway unreachable: {exc.__class__.__name__}") from exc
        if response.status_code >= 300:
            raise CodeNotSent(f"SMS gateway answered HTTP {response.status_code}")
        log.info("one-time code sent to %s", mask_phone(phone))


def build_code_sender(settings: Settings) -> CodeSender:
    """The sender ``sms.provider`` names.

    Raises:
        ConfigError: the provider is ``http`` but ``sms.url`` is not set.
    """
    sms = settings.sms
    if sms.provider == "log":
        return LogCodeSender()
    if not sms.url:
        raise ConfigError("Config 'sms.url' is missing: sms.provider is 'http', so set the SMS "
                          "gateway URL (KEFU_SMS__URL) or use provider 'log'")
    token = settings.sms_token.get_secret_value() if settings.sms_token else None
    return HttpCodeSender(url=sms.url, token=token, timeout=sms.timeout_seconds)
