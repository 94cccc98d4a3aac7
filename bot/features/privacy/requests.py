"""Data functions for privacy requests and the consent history (keyword-only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models import Member
from bot.core.storage.security_models import ConsentEvent, PrivacyRequest

EXPORT, ERASE = "export", "erase"
KINDS = (EXPORT, ERASE)
PENDING, DONE, CANCELLED = "pending", "done", "cancelled"
CONSENT_KINDS = ("greetings", "promotions")


async def open_request(
    session: AsyncSession, *, member_id: int | None, kind: str, source: str, now: datetime
) -> PrivacyRequest:
    """A pending request of ``kind``; the member's open one when there is one already."""
    if kind not in KINDS:
        raise ValueError(f"privacy request kind must be one of {KINDS}, got {kind!r}")
    if member_id is not None:
        existing = await session.scalar(
            select(PrivacyRequest).where(PrivacyRequest.member_id == member_id,
                                         PrivacyRequest.kind == kind,
                                         PrivacyRequest.status == PENDING).limit(1))
        if existing is not None:
            return existing
    request = PrivacyRequest(member_id=member_id, kind=kind, source=source, status=PENDING,
                             requested_at=now)
    session.add(request)
    await session.flush()
    return request


async def complete_requests(
    session: AsyncSession, *, member_id: int, kind: str, actor: str, now: datetime,
    outcome: str, source: str = "cli",
) -> int:
    """Marks the member's pending requests of ``kind`` done; records one when there was none,
    so every export or erasure leaves a request with its outcome. Returns how many."""
    pending = list((await session.execute(
        select(PrivacyRequest).where(PrivacyRequest.member_id == member_id,
                                     PrivacyRequest.kind == kind,
                                     PrivacyRequest.status == PENDING))).scalars())
    if not pending:
        pending = [await open_request(session, member_id=member_id, kind=kind, source=source,
                                      now=now)]
    for request in pending:
        request.status = DONE
        request.completed_at = now
        request.completed_by = actor[:128]
        request.outcome = outcome[:200]
    await session.flush()
    return len(pending)


async def list_requests(
    session: AsyncSession, *, status: str | None = None, member_id: int | None = None,
    limit: int = 100,
) -> list[PrivacyRequest]:
    statement = select(PrivacyRequest).order_by(PrivacyRequest.requested_at.desc(),
                                                PrivacyRequest.id.desc()).limit(limit)
    if status:
        statement = statement.where(PrivacyRequest.status == status)
    if member_id is not None:
        statement = statement.where(PrivacyRequest.member_id == member_id)
    return list((await session.execute(statement)).scalars())


async def record_consent(
    session: AsyncSession, *, member: Member, kind: str, granted: bool, source: str,
    now: datetime,
) -> None:
    """Sets the member's current consent and appends it to the history (call this from the
    subscribe/unsubscribe handlers rather than writing ``Member.consent_*`` directly)."""
    if kind not in CONSENT_KINDS:
        raise ValueError(f"consent kind must be one of {CONSENT_KINDS}, got {kind!r}")
    setattr(member, f"consent_{kind}", granted)
    member.consent_updated_at = now
    session.add(ConsentEvent(member_id=member.id, kind=kind, granted=granted,
                             source=source[:32], at=now))
    await session.flush()


async def consent_history(session: AsyncSession, *, member_id: int) -> list[ConsentEvent]:
    result = await session.execute(
        select(ConsentEvent).where(ConsentEvent.member_id == member_id)
        .order_by(ConsentEvent.at, ConsentEvent.id))
    return list(result.scalars())
