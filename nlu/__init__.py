"""Natural-language understanding: text → intent + entities (imports nothing of bot/)."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
