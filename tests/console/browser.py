"""What the real-browser tests share: Debian's Chromium, its arguments, where screenshots go,
and the live server the `server` fixture (tests/console/conftest.py) starts."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import Kefu
from tests.cases.helpers import Clock

CHROMIUM = Path("/usr/bin/chromium")
# Screenshots go to docs/ only when asked (KEFU_UPDATE_SCREENSHOTS=1), so that an ordinary
# test run leaves the checkout unchanged; otherwise to the test's temporary directory.
UPDATE_DOCS = os.environ.get("KEFU_UPDATE_SCREENSHOTS") == "1"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

# The marks of every browser test module (its `pytestmark`).
BROWSER_MARKS = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at "
                       "/usr/bin/chromium: run scripts/install-browser (needs apt-get)"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    url: str
    kefu: Kefu
    clock: Clock
