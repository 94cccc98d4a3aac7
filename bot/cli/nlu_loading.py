"""Loads the configured NLU backend for the commands that converse."""

from __future__ import annotations

from bot.cli.nlu_setup import build_embedded, build_nlu
from bot.settings import Settings
from nlu.protocol import NluBackend


def load_nlu(settings: Settings) -> NluBackend:
    """The backend with its embedded model loaded (trained first when the data changed), so
    the first customer does not wait for it."""
    embedded = build_embedded(settings)
    embedded.load_or_train()
    # The same instance serves: the model is in memory once, before any worker forks.
    return build_nlu(settings, embedded=embedded)
