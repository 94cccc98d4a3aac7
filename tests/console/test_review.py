"""The supervisors' review page: who may see it, and that it shows the report's figures."""

from __future__ import annotations

import re

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.features.demo.history import seed_history
from bot.features.kpis import periods
from bot.features.kpis.render import show
from bot.features.kpis.review import build_review, review_zone
from bot.features.kpis.rows import Filters
from tests.conftest import FIXED_NOW
from tests.console.conftest import Login


async def seeded(kefu: Kefu) -> None:
    async with transaction(kefu.sessions) as session:
        assert await seed_history(session, settings=kefu.settings, now=FIXED_NOW) > 300


def kpi_cell(html: str, name: str) -> str:
    found = re.search(rf'<tr data-kpi="{name}"><td>[^<]*</td>\s*<td class="num"><b>([^<]*)</b>',
                      html)
    assert found is not None, name
    return found.group(1)


async def test_agents_may_not_see_the_review(login: Login) -> None:
    agent = await login("agent")
    assert (await agent.get("/console/review")).status_code == 403
    assert 'href="/console/review"' not in (await agent.get("/console/queue")).text


async def test_the_page_shows_the_same_figures_as_the_report(kefu: Kefu, login: Login) -> None:
    await seeded(kefu)
    supervisor = await login("supervisor")
    page = await supervisor.get("/console/review?quarter=2026Q3&channel=wechat")
    assert page.status_code == 200
    assert 'href="/console/review"' in page.text
    zone = review_zone(kefu.settings)
    async with transaction(kefu.sessions) as session:
        review = await build_review(session, settings=kefu.settings,
                                    period=periods.quarter("2026Q3", zone), now=FIXED_NOW,
                                    filters=Filters(channel="wechat"))
    for line in review.lines:
        assert kpi_cell(page.text, line.kpi.name) == show(line.kpi, line.value)
    assert review.lines[0].value is not None
    assert page.text.count("<svg") >= 6
    assert "2026Q2" in page.text  # against the previous quarter
    # The current quarter is the default.
    default = await supervisor.get("/console/review")
    assert "KPI review 2026Q4" in default.text


async def test_a_bad_quarter_is_a_400_not_a_500(login: Login) -> None:
    supervisor = await login("supervisor")
    response = await supervisor.get("/console/review?quarter=2026Q9")
    assert response.status_code == 400
    assert "2026Q4" in response.text
