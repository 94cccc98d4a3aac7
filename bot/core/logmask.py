"""Masks phone numbers (mainland China, Hong Kong, Taiwan) in every log record."""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

_SEP = r"[\s-]?"
# Look-arounds keep order ids, timestamps, amounts and hex addresses from being cut into
# "phones"; Chinese text around a number does not stop it (绑定13800000001).
_PHONE = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    # Mainland mobile: 1[3-9]x xxxx xxxx, optionally +86 / 0086 / 86.
    rf"(?:(?:\+|00)?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}"
    # Taiwan mobile: 09xx xxx xxx, or +886 9xx xxx xxx.
    rf"|(?:(?:\+|00)?886{_SEP}0?|0)9\d{{2}}{_SEP}\d{{3}}{_SEP}\d{{3}}"
    # Hong Kong: +852 and 8 digits; without the prefix only mobiles (4-9), so that dates such
    # as 20261123 stay readable.
    rf"|(?:\+|00)?852{_SEP}[2-9]\d{{3}}{_SEP}\d{{4}}|[4-9]\d{{3}}{_SEP}\d{{4}}"
    # Mainland landline with its area code: 021-52980001.
    r"|0\d{2,3}-\d{7,8}"
    r")(?![0-9A-Za-z])")
_COUNTRY = re.compile(r"^(?:00|\+)?(?:86|852|886)")


def _mask(match: re.Match[str]) -> str:
    raw = match.group(0)
    digits = re.sub(r"\D", "", raw)
    if raw.startswith(("+", "00")) or len(digits) > 11:
        digits = _COUNTRY.sub("", digits)
    if len(digits) >= 10:
        return digits[:3] + "****" + digits[-4:]
    return "****" + digits[-4:]


def mask_phones(text: str) -> str:
    """``text`` with every phone number replaced by its masked form (138****0001)."""
    return _PHONE.sub(_mask, text)


def mask_record(record: logging.LogRecord) -> None:
    """Formats the record's message (and traceback) now, masked, so no handler sees the raw
    values. Idempotent."""
    if getattr(record, "_kefu_masked", False) or isinstance(record.msg, dict):
        return  # a dict is a structlog event, whose values bot/core/logs.py masks one by one
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a malformed %-format: keep what we have, masked
        message = f"{record.msg} {record.args}"
    record.msg = mask_phones(message)
    record.args = None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        record.exc_text = mask_phones(
            "".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    if record.stack_info:
        record.stack_info = mask_phones(record.stack_info)
    record.__dict__["_kefu_masked"] = True


class PiiMaskingFilter(logging.Filter):
    """A handler filter that masks phone numbers; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


# Libraries whose DEBUG/INFO records carry what must stay out of logs: aiosqlite prints SQL
# parameters (message texts, names), httpx prints request URLs (the Telegram bot token).
QUIETED = {"aiosqlite": logging.INFO, "httpx": logging.WARNING, "httpcore": logging.INFO}

_installed = False


def install_log_masking() -> None:
    """Masks every record the process creates, whatever handler later writes it (uvicorn's
    own handlers included): the record factory itself masks."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        mask_record(record)
        return record

    for name, level in QUIETED.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(level, logger.getEffectiveLevel()))
    factory.previous = previous  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
    _installed = True


def uninstall_log_masking() -> None:
    """Restores plain records (tests that must not leave the factory behind)."""
    global _installed
    factory = logging.getLogRecordFactory()
    previous = getattr(factory, "previous", None)
    if _installed and previous is not None:
        logging.setLogRecordFactory(previous)
    _installed = False
