"""Retailer plug-ins named in config.yml as ``"module:attribute"`` (orders, members)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from bot.core.errors import ConfigError


@lru_cache(maxsize=8)
def _resolve(path: str) -> object | ImportError | AttributeError:
    module_name, _, attribute = path.partition(":")
    try:
        found: object = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        return exc
    return found


def plugin_factory(key: str, path: str) -> Callable[..., Any]:
    """The callable that config key ``key`` names by ``path``.

    Raises:
        ConfigError: ``path`` cannot be imported or is not callable.
    """
    found = _resolve(path)
    if isinstance(found, ImportError | AttributeError):
        raise ConfigError(f"Config '{key}' names {path!r}, which cannot be imported: "
                          f"{found}") from found
    if not callable(found):
        raise ConfigError(f"Config '{key}': {path!r} is not callable")
    return found
