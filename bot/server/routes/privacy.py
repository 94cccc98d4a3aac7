"""Staff API of privacy and security: the audit log and member exports, guarded by role."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from bot.core import audit
from bot.core.storage.db import transaction
from bot.features.privacy import requests
from bot.features.privacy.export import export_member
from bot.features.security.permissions import Action, Principal, require
from bot.server.routes.core import KefuDep

router = APIRouter(prefix="/api", tags=["privacy"])


class _NotFound(BaseModel):
    error: str


@router.get("/audit")
async def search_audit(
    kefu: KefuDep,
    principal: Annotated[Principal, require(Action.VIEW_AUDIT)],
    actor: Annotated[str | None, Query(max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    subject: Annotated[str | None, Query(max_length=128)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Audit entries, newest first (supervisors and admins)."""
    for moment in (since, until):
        if moment is None:
            continue
        if moment.tzinfo is None:
            raise HTTPException(status_code=400, detail="since/until need a time zone offset")
        try:
            moment.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC equivalent
            raise HTTPException(status_code=400, detail="since/until out of range") from None
    async with transaction(kefu.sessions) as session:
        found = await audit.search(session, actor=actor, action=action, subject=subject,
                                   since=since, until=until, limit=limit)
        return [audit.as_dict(entry) for entry in found]


# A POST: it writes (the audit entry, the completed request). Console users export from
# /console/audit, whose form carries the session's CSRF token (bot/console/routes_audit.py).
@router.post("/members/{member}/export",
            responses={404: {"description": "No member matches", "model": _NotFound}})
async def export_member_data(
    member: str,
    kefu: KefuDep,
    principal: Annotated[Principal, require(Action.EXPORT_MEMBER)],
) -> dict[str, Any]:
    """Everything Kefu holds about a member, decrypted; the export is audited."""
    async with transaction(kefu.sessions) as session:
        found = await kefu.directory.find(session, member[:128])
        if found is None:
            raise HTTPException(status_code=404, detail="no such member")
        now = datetime.now(UTC)
        data = await export_member(session, directory=kefu.directory, member=found,
                                   settings=kefu.settings, now=now)
        await requests.complete_requests(session, member_id=found.id, kind=requests.EXPORT,
                                         actor=principal.actor, now=now, outcome="exported",
                                         source="api")
        await audit.record(session, actor=principal.actor, action=audit.MEMBER_EXPORT,
                           subject=found.member_no, detail={"via": "api"}, now=now)
        return data
