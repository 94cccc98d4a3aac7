"""The `kpis` config section: the retailer's promises the quarterly review measures against."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot.features.cases.settings import Minutes

Share = float  # a fraction 0–1


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KpiTargets(_Section):
    """Targets per KPI name; a KPI without one is reported without a verdict."""

    handled_within_48h: Share = Field(default=0.90, ge=0, le=1)
    csat_satisfied: Share = Field(default=0.85, ge=0, le=1)
    complaints_answered_in_target: Share = Field(default=0.90, ge=0, le=1)
    first_response_within_sla: Share = Field(default=0.90, ge=0, le=1)
    resolution_within_sla: Share = Field(default=0.90, ge=0, le=1)
    csat_response_rate: Share | None = Field(default=0.30, ge=0, le=1)
    containment: Share | None = Field(default=0.70, ge=0, le=1)
    fallback_rate: Share | None = Field(default=0.10, ge=0, le=1)
    first_response_p90_minutes: float | None = Field(default=None, ge=0)
    resolution_p90_minutes: float | None = Field(default=None, ge=0)


class KpiSettings(_Section):
    # Complaints get their first answer within this much calendar time (the retailer's
    # promise to customers, stricter than the business-hours SLA).
    complaint_first_response: Minutes = 120
    # The zone quarters and dates of `kefu report` are read in (default: app.default_timezone).
    timezone: str | None = None
    targets: KpiTargets = KpiTargets()
