"""The quarterly review: a period's KPIs beside the previous period's and the targets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.kpis import periods
from bot.features.kpis.catalogue import CATALOGUE, KpiDef, meets
from bot.features.kpis.compute import Kpis, compute
from bot.features.kpis.load import load_rows
from bot.features.kpis.rows import Filters, KpiRows, Period
from bot.settings import Settings


@dataclass(frozen=True, slots=True)
class Line:
    kpi: KpiDef
    value: float | None
    previous: float | None
    target: float | None
    meets: bool | None


@dataclass(frozen=True, slots=True)
class Week:
    label: str
    cases: int
    handled_within_48h: float | None
    csat_satisfied: float | None


@dataclass(frozen=True, slots=True)
class Review:
    current: Kpis
    previous: Kpis
    lines: list[Line]
    weeks: list[Week]
    as_of: datetime
    zone: ZoneInfo


def review_zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.kpis.timezone or settings.app.default_timezone)


def targets(settings: Settings) -> dict[str, float | None]:
    configured: dict[str, float | None] = settings.kpis.targets.model_dump()
    return configured


def lines(current: Kpis, previous: Kpis, goals: dict[str, float | None]) -> list[Line]:
    return [Line(kpi, current.values.get(kpi.name), previous.values.get(kpi.name),
                 goals.get(kpi.name), meets(kpi, current.values.get(kpi.name),
                                            goals.get(kpi.name)))
            for kpi in CATALOGUE]


def weekly(rows: KpiRows, period: Period, *, zone: ZoneInfo, as_of: datetime,
           complaint_target: timedelta, filters: Filters) -> list[Week]:
    """Case figures week by week (messages are read per period only)."""
    result: list[Week] = []
    for week in periods.weeks(period, zone):
        if week.start > as_of:
            break
        cut = KpiRows(tuple(c for c in rows.cases if c.created_at in week), (), (), ())
        kpis = compute(cut, period=week, as_of=as_of, complaint_target=complaint_target,
                       filters=filters)
        result.append(Week(week.label, len(cut.cases),
                           kpis.values["handled_within_48h"], kpis.values["csat_satisfied"]))
    return result


async def build_review(session: AsyncSession, *, settings: Settings, period: Period,
                       now: datetime, filters: Filters = Filters()) -> Review:
    zone = review_zone(settings)
    before = periods.previous(period, zone)
    complaint_target = timedelta(minutes=settings.kpis.complaint_first_response)
    rows = await load_rows(session, period=period)
    current = compute(rows, period=period, as_of=now, complaint_target=complaint_target,
                      filters=filters)
    previous = compute(await load_rows(session, period=before), period=before, as_of=now,
                       complaint_target=complaint_target, filters=filters)
    return Review(current, previous, lines(current, previous, targets(settings)),
                  weekly(rows, period, zone=zone, as_of=now, complaint_target=complaint_target,
                         filters=filters), now, zone)
