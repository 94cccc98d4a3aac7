"""The audit log in the console (supervisors and admins) and member exports behind CSRF."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from bot.console.auth import Actor
from bot.console.web import acting, kefu_of, now_of, problem, render, viewing
from bot.core import audit
from bot.core.storage.db import transaction
from bot.features.cases.sla import zone_of
from bot.features.privacy import requests
from bot.features.privacy.export import export_member
from bot.features.security.permissions import Action

router = APIRouter()
Auditor = Annotated[Actor, viewing(Action.VIEW_AUDIT)]
Exporting = Annotated[Actor, acting(Action.EXPORT_MEMBER)]
PAGE = 100
# The console shows and takes dates in the desk's zone (mainland retail by default).
ZONE = "Asia/Shanghai"
ACTIONS = (audit.LOGIN_OK, audit.LOGIN_FAILED, audit.ACCESS_DENIED, "pii", audit.PII_VIEW,
           audit.PII_UNMASK, audit.MEMBER_EXPORT, audit.MEMBER_ERASE, audit.PRIVACY_REQUEST,
           audit.PRIVACY_PURGE, audit.ROLE_CHANGE, audit.CONFIG_RELOAD, audit.POINTS_ADJUST,
           audit.KEYS_ROTATE, audit.AUDIT_EXPORT)
Text = Annotated[str, Query(max_length=128)]


def _start_of(day: date | None, *, plus_days: int = 0) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=plus_days), time(), zone_of(ZONE)).astimezone(UTC)


@router.get("/console/audit", include_in_schema=False)
async def audit_page(request: Request, _actor: Auditor, actor: Text = "", action: Text = "",
                     subject: Text = "", since: Text = "", until: Text = "",
                     page: Annotated[int, Query(ge=1, le=1000)] = 1) -> Response:
    """Newest first, ``PAGE`` a page; ``until`` is inclusive (the whole day)."""
    # Dates arrive as typed (an empty field is ""), so they are parsed here, not by FastAPI.
    try:
        first = date.fromisoformat(since) if since.strip() else None
        last = date.fromisoformat(until) if until.strip() else None
    except ValueError:
        return problem(request, 422, "日期格式应为 YYYY-MM-DD · dates are YYYY-MM-DD")
    if first and last and last < first:
        return problem(request, 422, "“至”不能早于“自” · 'until' is before 'since'")
    async with transaction(kefu_of(request).sessions) as session:
        found = await audit.search(
            session, actor=actor.strip() or None, action=action.strip() or None,
            subject=subject.strip() or None, since=_start_of(first),
            until=_start_of(last, plus_days=1), limit=PAGE * page + 1)
    entries = found[PAGE * (page - 1):PAGE * page]
    filters = {"actor": actor, "action": action, "subject": subject,
               "since": first.isoformat() if first else "",
               "until": last.isoformat() if last else ""}
    return render(request, "audit.html", entries=entries, filters=filters, actions=ACTIONS,
                  page=page, more=len(found) > PAGE * page, zone=ZONE,
                  details={e.id: json.dumps(e.detail, ensure_ascii=False) if e.detail else ""
                           for e in entries})


@router.post("/console/members/export", include_in_schema=False)
async def export_member_file(request: Request, actor: Exporting,
                             member: Annotated[str, Form(min_length=1, max_length=128)]
                             ) -> Response:
    """Everything Kefu holds about a member, decrypted, as a JSON download; audited."""
    kefu = kefu_of(request)
    now = now_of(request)
    async with transaction(kefu.sessions) as session:
        found = await kefu.directory.find(session, member.strip())
        if found is None:
            return problem(request, 404, "没有这个会员 · No member matches")
        data = await export_member(session, directory=kefu.directory, member=found,
                                   settings=kefu.settings, now=now)
        await requests.complete_requests(session, member_id=found.id, kind=requests.EXPORT,
                                         actor=actor.principal.actor, now=now,
                                         outcome="exported", source="console")
        await audit.record(session, actor=actor.principal.actor, action=audit.MEMBER_EXPORT,
                           subject=found.member_no, detail={"via": "console"}, now=now)
        member_no = found.member_no
    return Response(json.dumps(data, ensure_ascii=False, indent=2),
                    media_type="application/json",
                    headers={"content-disposition": f'attachment; filename="{member_no}.json"',
                             "cache-control": "no-store"})
