"""docs/grafana-dashboard.json only queries series Kefu exports."""

from __future__ import annotations

import json
import re

from prometheus_client import REGISTRY

import bot.core.metrics  # (registers the series)
import bot.features.kpis.metrics  # noqa: F401
from tests.conftest import ROOT


def exported() -> set[str]:
    names: set[str] = set()
    for family in REGISTRY.collect():
        # A labelled series has no samples until used: name its samples from its type.
        names.add(family.name)
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names.update(family.name + suffix for suffix in ("_bucket", "_sum", "_count"))
    return names


def test_every_query_names_an_exported_series() -> None:
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text("utf-8"))
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for query in queries for name in re.findall(r"\bkefu_[a-z_]+", query)}
    assert used and used <= exported(), used - exported()
    assert {"kefu_cases_active", "kefu_csat_ratings_total", "kefu_cases_overdue",
            "kefu_nlu_confidence_bucket", "kefu_outbox_messages"} <= used
