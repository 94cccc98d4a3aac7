"""The `proactive` section as operators edit it: config.yml is read again when it changes."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.core.errors import ConfigError
from bot.features.proactive.settings import ProactiveSettings
from bot.settings import load_settings

log = logging.getLogger(__name__)


class LiveProactive:
    """Hands out the current `proactive` settings without a restart.

    Starts from the settings the process was built with; when the config file's modification
    time changes it is loaded again (environment overrides included). An invalid edit is
    logged and the last good settings stay in force.
    """

    __slots__ = ("_current", "_path", "_seen")

    def __init__(self, initial: ProactiveSettings, path: Path | None) -> None:
        self._current = initial
        self._path = path
        self._seen = self._mtime()

    def _mtime(self) -> float | None:
        if self._path is None:
            return None
        try:
            return self._path.stat().st_mtime
        except OSError:
            return None

    def __call__(self) -> ProactiveSettings:
        mtime = self._mtime()
        if mtime is None or mtime == self._seen:
            return self._current
        self._seen = mtime
        try:
            self._current = load_settings(self._path).proactive
            log.info("proactive settings reloaded from %s", self._path)
        except ConfigError as exc:
            log.warning("config change ignored, the previous proactive settings stay: %s", exc)
        return self._current
