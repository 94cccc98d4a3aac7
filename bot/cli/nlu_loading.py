"""Loads the configured NLU backend for the commands that converse."""

from __future__ import annotations

from bot.cli.nlu_setup import build_embedded, build_nlu
from bot.settings import Settings
from nlu.protocol import NluBackend


def load_nlu(settings: Settings) -> NluBackend:
    """The backend with its embedded model loaded (trained first when the data changed), so
    the first customer does not wait for it."""
    build_embedded(settings).load_or_train()
    return build_nlu(settings)
