"""The supervisors' quarterly review: the same KPIs, targets and charts as `kefu report`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from bot.console.auth import Actor
from bot.console.web import kefu_of, now_of, problem, render, viewing
from bot.core.storage.db import transaction
from bot.features.kpis import periods
from bot.features.kpis.render import fragment
from bot.features.kpis.review import build_review, review_zone
from bot.features.kpis.rows import Filters
from bot.features.security.permissions import Action

router = APIRouter()
Supervisor = Annotated[Actor, viewing(Action.SUPERVISE_CASES)]
CHANNELS = ("web", "wechat", "telegram")
CATEGORIES = ("product", "service", "staff", "delivery", "other")
QUARTERS_OFFERED = 6


@router.get("/console/review", include_in_schema=False)
async def review_page(request: Request, _actor: Supervisor,
                      quarter: Annotated[str | None, Query(max_length=10)] = None,
                      channel: Annotated[str | None, Query(max_length=32)] = None,
                      store: Annotated[str | None, Query(max_length=64)] = None,
                      category: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    kefu = kefu_of(request)
    zone = review_zone(kefu.settings)
    now = now_of(request)
    offered = [periods.quarter_of(now, zone)]
    while len(offered) < QUARTERS_OFFERED:
        offered.append(periods.previous(offered[-1], zone))
    try:
        period = periods.quarter(quarter, zone) if quarter else offered[0]
    except ValueError as exc:
        return problem(request, 400, str(exc))
    filters = Filters(channel or None, store or None, category or None)
    async with transaction(kefu.sessions) as session:
        review = await build_review(session, settings=kefu.settings, period=period, now=now,
                                    filters=filters)
    return render(request, "review.html", body=fragment(review), period=period,
                  quarters=[q.label for q in offered], filters=filters, channels=CHANNELS,
                  stores=[s.code for s in kefu.settings.stores], categories=CATEGORIES)
