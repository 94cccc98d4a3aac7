"""Logging through structlog: JSON lines in production, readable lines in development, the
correlation id on every line, and personal data masked before anything is written."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from bot.core.logmask import install_log_masking, mask_phones

# Keys whose values never reach a log line: platform ids of people, tokens, signatures.
SECRET_KEYS = frozenset({"openid", "fromusername", "tousername", "token", "access_token",
                         "secret", "signature", "msg_signature", "echostr", "password",
                         "authorization", "cookie", "nonce", "sender", "recipient_id"})
# WeChat openids (o and 27 more characters; 21–40 accepted), Telegram bot tokens (123456:ABC…).
_OPENID = re.compile(r"\bo[A-Za-z0-9_-]{20,39}\b")
_BOT_TOKEN = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b")
_QUERY_SECRET = re.compile(
    r"((?:^|[?&])(?:" + "|".join(sorted(SECRET_KEYS)) + r")=)[^&\s]*", re.IGNORECASE)


EXTRA_FIELDS = ("method", "path", "query", "status", "duration_ms", "case", "kind")


def mask_text(text: str) -> str:
    """Phones, openids, bot tokens and secret query parameters masked in ``text``."""
    text = _QUERY_SECRET.sub(r"\1***", text)
    text = _BOT_TOKEN.sub("***:***", text)
    text = _OPENID.sub(lambda m: m.group(0)[:4] + "***", text)
    return mask_phones(text)


def mask_event(_logger: Any, _method: str,
               event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: masks every string value, and hides secret keys entirely."""
    for key, value in list(event.items()):
        if key.lower() in SECRET_KEYS:
            event[key] = "***"
        elif isinstance(value, str):
            event[key] = mask_text(value)
    return event


def configure_logging(*, json: bool, level: int = logging.INFO) -> None:
    """Routes the standard library's records (uvicorn's, Kefu's) and structlog's through one
    chain of processors to stderr."""
    install_log_masking()
    shared: list[Any] = [
        # Kefu logs through the standard library; its structured fields travel as `extra`.
        structlog.stdlib.ExtraAdder(allow=EXTRA_FIELDS),
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_event,
    ]
    renderer: Any = (structlog.processors.JSONRenderer(ensure_ascii=False) if json
                     else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *([structlog.processors.format_exc_info] if json else []), renderer]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
    for noisy in ("httpx", "httpcore", "telegram"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
