"""One-time codes: stored hashed, expiring, with attempt and rate limits per phone and sender."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models_selfservice import BindingChallenge

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS = 5
# Codes sent to one number, and numbers tried by one sender (found or not), per window:
# enough for a customer who mistypes, too few to enumerate members or flood a phone.
WINDOW = timedelta(hours=1)
PER_PHONE = 3
PER_SENDER = 5
RESEND_AFTER = timedelta(seconds=60)

SENT, UNKNOWN, REFUSED, LIMITED, FAILED = "sent", "unknown", "refused", "limited", "failed"

Hasher = Callable[[str], str]
Status = Literal["ok", "wrong", "locked", "expired"]


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    attempts_left: int
    challenge: BindingChallenge | None


async def retry_at(
    session: AsyncSession, *, identity_id: int, phone_index: str, now: datetime
) -> datetime | None:
    """When this sender may ask for a code for this number; ``None`` when they may now."""
    since = now - WINDOW
    by_sender = await session.execute(
        select(func.count(), func.min(BindingChallenge.created_at)).where(
            BindingChallenge.identity_id == identity_id,
            BindingChallenge.outcome != LIMITED,
            BindingChallenge.created_at >= since))
    count, oldest = by_sender.one()
    waits: list[datetime] = []
    if count >= PER_SENDER and oldest is not None:
        waits.append(oldest + WINDOW)
    by_phone = await session.execute(
        select(func.count(), func.min(BindingChallenge.created_at),
               func.max(BindingChallenge.created_at)).where(
            BindingChallenge.phone_index == phone_index,
            BindingChallenge.outcome == SENT,
            BindingChallenge.created_at >= since))
    sent, first, last = by_phone.one()
    if sent >= PER_PHONE and first is not None:
        waits.append(first + WINDOW)
    if last is not None and now < last + RESEND_AFTER:
        waits.append(last + RESEND_AFTER)
    return max(waits) if waits else None


async def record_request(
    session: AsyncSession, *, identity_id: int, phone_index: str, outcome: str,
    member_id: int | None, now: datetime, purpose: str = "bind",
) -> BindingChallenge:
    challenge = BindingChallenge(identity_id=identity_id, phone_index=phone_index,
                                 outcome=outcome, member_id=member_id, purpose=purpose,
                                 attempts=0, created_at=now)
    session.add(challenge)
    await session.flush()
    return challenge


def _digest(hasher: Hasher, challenge_id: int, code: str) -> str:
    # Bound to the challenge, so one hash says nothing about the same digits elsewhere.
    return hasher(f"binding-code:{challenge_id}:{code}")


def issue_code(challenge: BindingChallenge, *, hasher: Hasher, now: datetime) -> str:
    """A fresh code for ``challenge``; only its keyed hash is kept."""
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    challenge.code_hash = _digest(hasher, challenge.id, code)
    challenge.expires_at = now + CODE_LIFETIME
    challenge.outcome = SENT
    return code


async def verify_code(
    session: AsyncSession, *, challenge_id: int, code: str, hasher: Hasher, now: datetime
) -> Verdict:
    """Checks ``code``; every check of a live code counts as an attempt."""
    # Locked, so two answers sent at once both count against the five attempts.
    challenge = (await session.execute(
        select(BindingChallenge).where(BindingChallenge.id == challenge_id)
        .with_for_update().execution_options(populate_existing=True))).scalar_one_or_none()
    if (challenge is None or challenge.code_hash is None or challenge.expires_at is None
            or challenge.verified_at is not None):
        return Verdict("expired", 0, challenge)
    if challenge.attempts >= MAX_ATTEMPTS:
        return Verdict("locked", 0, challenge)
    if now > challenge.expires_at:
        return Verdict("expired", 0, challenge)
    challenge.attempts += 1
    left = MAX_ATTEMPTS - challenge.attempts
    if hmac.compare_digest(challenge.code_hash, _digest(hasher, challenge.id, code)):
        challenge.verified_at = now
        return Verdict("ok", left, challenge)
    return Verdict("wrong" if left else "locked", left, challenge)
