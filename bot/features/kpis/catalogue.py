"""The KPIs by name: their unit, which way is better, and how a supervisor reads them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["share", "minutes", "score", "count"]


@dataclass(frozen=True, slots=True)
class KpiDef:
    name: str
    unit: Unit
    higher_is_better: bool
    label: str  # Chinese, then English, as the console labels things


CATALOGUE: tuple[KpiDef, ...] = (
    KpiDef("handled_within_48h", "share", True, "48 小时内处理 Feedback handled within 48 h"),
    KpiDef("feedback_cases", "count", True, "反馈工单 Feedback cases"),
    KpiDef("first_response_median_minutes", "minutes", False,
           "首次响应中位数 First response, median"),
    KpiDef("first_response_p90_minutes", "minutes", False, "首次响应 P90 First response, p90"),
    KpiDef("first_response_within_sla", "share", True, "按时首次响应 First response within SLA"),
    KpiDef("resolution_median_minutes", "minutes", False, "解决用时中位数 Resolution, median"),
    KpiDef("resolution_p90_minutes", "minutes", False, "解决用时 P90 Resolution, p90"),
    KpiDef("resolution_within_sla", "share", True, "按时解决 Resolution within SLA"),
    KpiDef("csat_satisfied", "share", True, "满意率 (4–5) CSAT satisfied"),
    KpiDef("csat_average", "score", True, "平均满意度 CSAT average"),
    KpiDef("csat_response_rate", "share", True, "评价率 CSAT response rate"),
    KpiDef("csat_ratings", "count", True, "评价数 Ratings"),
    KpiDef("complaints", "count", False, "投诉 Complaints"),
    KpiDef("complaints_answered_in_target", "share", True,
           "投诉按时首次响应 Complaints answered in target"),
    KpiDef("containment", "share", True, "机器人自助解决率 Bot containment"),
    KpiDef("fallback_rate", "share", False, "未理解率 Fallback rate"),
    KpiDef("did_you_mean_rate", "share", False, "澄清提问率 Did-you-mean rate"),
    KpiDef("conversations", "count", True, "会话 Conversations"),
    KpiDef("handoffs", "count", False, "转人工 Handoffs"),
    KpiDef("messages_in", "count", True, "收到消息 Messages in"),
)
BY_NAME = {kpi.name: kpi for kpi in CATALOGUE}


def meets(kpi: KpiDef, value: float | None, target: float | None) -> bool | None:
    """Whether ``value`` keeps the promise; ``None`` when there is no value or no target."""
    if value is None or target is None:
        return None
    return value >= target if kpi.higher_is_better else value <= target
