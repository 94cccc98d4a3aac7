"""The console's own bilingual labels (agents read both; customers never see these)."""

from __future__ import annotations

from datetime import datetime

from bot.features.cases.sla import zone_of

PRIORITIES = {"urgent": "紧急 Urgent", "high": "高 High", "normal": "普通 Normal",
              "low": "低 Low"}
KINDS = {"complaint": "投诉 Complaint", "suggestion": "建议 Suggestion",
         "chat": "人工咨询 Chat"}
CATEGORIES = {"product": "产品 Product", "service": "服务 Service", "staff": "店员 Staff",
              "delivery": "配送 Delivery", "other": "其他 Other"}
STATUSES = {"new": "待认领 New", "open": "处理中 Open", "pending": "等客户 Waiting on customer",
            "closed": "已结案 Closed"}
DEADLINES = {"first_response": "首次响应 First reply", "resolution": "解决 Resolution",
             "paused": "已暂停 Paused", "closed": "已结案 Closed"}
EVENTS = {
    "created": "创建工单 Case opened", "queued": "转人工排队 Queued for a person",
    "claimed": "认领 Claimed", "assigned": "分派 Assigned", "transferred": "转交 Transferred",
    "note": "内部备注 Internal note", "waiting": "等待客户回复，SLA 暂停 Waiting on customer",
    "resumed": "客户已回复，SLA 继续 Customer replied", "closed": "结案 Closed",
    "csat": "满意度评分 Satisfaction rating", "csat_comment": "客户评价 Customer comment",
    "customer_left": "客户返回机器人 Customer left",
    "withdrawn": "客户取消排队 Customer withdrew", "sla_warning": "SLA 即将超时 SLA warning",
    "sla_breach": "SLA 已超时，升级主管 SLA breached, escalated",
}
REASONS = {"asked": "客户要求 asked", "misunderstood": "机器人两次未理解 bot misunderstood",
           "urgent": "紧急投诉 urgent complaint"}
RESOLUTIONS = {"resolved": "已解决 Resolved", "refund": "退款 Refund",
               "replacement": "换货 Replacement", "explained": "已解释 Explained",
               "no_action": "无需处理 No action", "duplicate": "重复 Duplicate",
               "withdrawn": "客户撤回 Withdrawn"}
ROLES = {"agent": "客服 Agent", "supervisor": "主管 Supervisor", "admin": "管理员 Admin"}
LABELS = {"priorities": PRIORITIES, "kinds": KINDS, "categories": CATEGORIES,
          "statuses": STATUSES, "deadlines": DEADLINES, "events": EVENTS, "reasons": REASONS,
          "resolutions": RESOLUTIONS, "roles": ROLES}


def deadline_text(body: str) -> str:
    """An SLA event's body (``first_response 2026-11-23 16:00 Asia/Shanghai``) with the
    deadline's name in words."""
    key, _, rest = body.partition(" ")
    return f"{DEADLINES[key]} {rest}".strip() if key in DEADLINES else body


def local(moment: datetime | None, zone: str = "Asia/Shanghai",
          pattern: str = "%m-%d %H:%M") -> str:
    """A stored UTC time as the case's local time."""
    if moment is None:
        return ""
    return moment.astimezone(zone_of(zone)).strftime(pattern)


def iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def duration(minutes: int) -> str:
    """Business minutes as the countdown shows them: 45m, 3h 05m, 2d 4h; overdue marked."""
    left = abs(minutes)
    hours, rest = divmod(left, 60)
    if hours >= 48:
        text = f"{hours // 24}d {hours % 24}h"
    elif hours:
        text = f"{hours}h {rest:02d}m"
    else:
        text = f"{rest}m"
    return f"超时 overdue {text}" if minutes < 0 else text
