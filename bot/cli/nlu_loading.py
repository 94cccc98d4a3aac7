"""Loads the configured NLU backend for commands that converse, when the model is available."""

from __future__ import annotations

import logging

from bot.settings import Settings
from nlu.protocol import NluBackend

log = logging.getLogger(__name__)


def load_nlu(settings: Settings) -> NluBackend | None:
    try:
        from bot.nlu_setup import build_nlu
    except ImportError:
        return None
    return build_nlu(settings)
