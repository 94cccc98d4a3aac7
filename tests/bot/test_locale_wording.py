"""Texts every channel sends never ask to tap: on WeChat nothing can be tapped, and buttons
become a numbered list there (the customer replies with a number or the words)."""

from pathlib import Path

import pytest
import yaml

LOCALES = Path(__file__).resolve().parents[2] / "bot" / "locales"
# Telegram alone asks for the sender's contact, with a button only it can show.
TELEGRAM_ONLY = {"unbound.need_binding_contact", "binding.foreign_contact"}
TAPPING = ("点击", "点选", "点“", "点下方", "点按钮", "點擊", "點選", "tap ", "Tap ")


def _texts(data: object, prefix: str = "") -> dict[str, str]:
    if isinstance(data, dict):
        found: dict[str, str] = {}
        for key, value in data.items():
            found |= _texts(value, f"{prefix}.{key}" if prefix else str(key))
        return found
    return {prefix: str(data)}


@pytest.mark.parametrize("language", ["zh-Hans", "zh-Hant", "en"])
def test_no_text_asks_to_tap(language: str) -> None:
    texts = _texts(yaml.safe_load((LOCALES / f"{language}.yml").read_text(encoding="utf-8")))
    tapping = {key: text for key, text in texts.items()
               if key not in TELEGRAM_ONLY and any(word in text for word in TAPPING)}
    assert tapping == {}
