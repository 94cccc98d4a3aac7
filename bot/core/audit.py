"""The audit log: record who did what to whom, search it, export it as JSON lines.

Append-only by construction: this module is the only writer and it only inserts. Call
:func:`record` (or one of the named helpers) in the same transaction as the audited work, so
the entry exists exactly when the work happened. ``subject`` and ``detail`` must never hold
personal data: name members by member number, never by phone or name (phone numbers in
``detail`` strings are masked as a safety net).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.logmask import mask_phones
from bot.core.storage.security_models import AuditEntry

# Actions (keep names stable: operators search for them).
LOGIN_OK = "login.ok"
LOGIN_FAILED = "login.failed"
ACCESS_DENIED = "access.denied"
PII_VIEW = "pii.view"
PII_UNMASK = "pii.unmask"
MEMBER_EXPORT = "member.export"
MEMBER_ERASE = "member.erase"
PRIVACY_REQUEST = "privacy.request"
PRIVACY_PURGE = "privacy.purge"
ROLE_CHANGE = "role.change"
CONFIG_RELOAD = "config.reload"
POINTS_ADJUST = "points.adjust"
KEYS_ROTATE = "keys.rotate"
AUDIT_EXPORT = "audit.export"


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phones(value)
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    subject: str | None = None,
    detail: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Appends one entry (flushed, committed with the caller's transaction)."""
    session.add(AuditEntry(at=now or datetime.now(UTC), actor=actor[:128], action=action[:64],
                           subject=subject[:128] if subject else None,
                           detail=_clean(dict(detail or {}))))
    await session.flush()


async def record_pii_view(
    session: AsyncSession, *, actor: str, member_no: str, unmasked: bool, purpose: str = ""
) -> None:
    await record(session, actor=actor, action=PII_UNMASK if unmasked else PII_VIEW,
                 subject=member_no, detail={"purpose": purpose} if purpose else None)


async def record_pii_view_once(
    session: AsyncSession, *, actor: str, member_no: str, purpose: str, sign_in: int
) -> bool:
    """A masked view, recorded once per purpose (a case) and sign-in: reloading the page or
    the live refresh of one look at a case is not another look. Whether it was recorded."""
    seen = await session.execute(
        select(AuditEntry.detail).where(AuditEntry.action == PII_VIEW, AuditEntry.actor == actor,
                                        AuditEntry.subject == member_no))
    if any(detail.get("sign_in") == sign_in and detail.get("purpose") == purpose
           for detail in seen.scalars()):
        return False
    await record(session, actor=actor, action=PII_VIEW, subject=member_no,
                 detail={"purpose": purpose, "sign_in": sign_in})
    return True


async def record_login(
    session: AsyncSession, *, account: str, ip: str | None, ok: bool, reason: str = ""
) -> None:
    detail: dict[str, Any] = {"ip": ip}
    if reason:
        detail["reason"] = reason
    await record(session, actor=f"agent:{account}", action=LOGIN_OK if ok else LOGIN_FAILED,
                 subject=account, detail=detail)


async def record_role_change(
    session: AsyncSession, *, actor: str, account: str, old_role: str | None, new_role: str | None
) -> None:
    await record(session, actor=actor, action=ROLE_CHANGE, subject=account,
                 detail={"from": old_role, "to": new_role})


async def record_config_reload(
    session: AsyncSession, *, actor: str, changed: list[str], source: str = ""
) -> None:
    """``changed``: the dotted keys whose values changed (never the values: they may be
    secrets)."""
    await record(session, actor=actor, action=CONFIG_RELOAD, subject=source or None,
                 detail={"changed": sorted(changed)})


async def record_points_adjustment(
    session: AsyncSession, *, actor: str, member_no: str, points: int, reason: str,
    ref: str | None = None,
) -> None:
    await record(session, actor=actor, action=POINTS_ADJUST, subject=member_no,
                 detail={"points": points, "reason": reason, "ref": ref})


def _filtered(
    *, actor: str | None, action: str | None, subject: str | None,
    since: datetime | None, until: datetime | None,
) -> Select[AuditEntry]:
    statement = select(AuditEntry)
    if actor:
        statement = statement.where(AuditEntry.actor == actor)
    if action:
        # "pii" finds pii.view and pii.unmask; "pii.view" only itself.
        statement = statement.where(
            (AuditEntry.action == action) | AuditEntry.action.startswith(action + "."))
    if subject:
        statement = statement.where(AuditEntry.subject == subject)
    if since:
        statement = statement.where(AuditEntry.at >= since)
    if until:
        statement = statement.where(AuditEntry.at < until)
    return statement


async def search(
    session: AsyncSession,
    *,
    actor: str | None = None,
    action: str | None = None,
    subject: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Matching entries, newest first."""
    statement = _filtered(actor=actor, action=action, subject=subject, since=since, until=until)
    result = await session.execute(
        statement.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit))
    return list(result.scalars())


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor,
            "action": entry.action, "subject": entry.subject, "detail": entry.detail}


async def export_lines(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    subject: str | None = None,
    batch: int = 1000,
) -> AsyncIterator[str]:
    """Every matching entry as one JSON line, oldest first, read in batches."""
    last_id = 0
    while True:
        statement = _filtered(actor=actor, action=action, subject=subject, since=since,
                              until=until)
        rows = list((await session.execute(
            statement.where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        )).scalars())
        for entry in rows:
            yield json.dumps(as_dict(entry), ensure_ascii=False)
        if len(rows) < batch:
            return
        last_id = rows[-1].id
