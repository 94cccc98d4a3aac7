"""Builds the proactive parts of one Kefu process."""

from __future__ import annotations

from bot.app import Kefu
from bot.features.proactive.greetings import Planner
from bot.features.proactive.live import LiveProactive
from bot.settings import config_path

WEB = "web"


def deliverable_channels(kefu: Kefu) -> frozenset[str]:
    """Channels a proactive message can reach here: the configured platforms, and the web
    chat (its page takes pending messages when the member opens it)."""
    return frozenset({*kefu.services.outbox_delays, WEB})


def live_proactive(kefu: Kefu) -> LiveProactive:
    path = config_path()
    return LiveProactive(kefu.settings.proactive, path if path.exists() else None)


def planner_for(kefu: Kefu, proactive: LiveProactive | None = None) -> Planner:
    return Planner(settings=kefu.settings, directory=kefu.directory,
                   translator=kefu.services.translator, deliverable=deliverable_channels(kefu),
                   proactive=proactive or live_proactive(kefu))
