"""API keys of tills and shop systems, and the signature their requests carry.

A key is an id (``kfk_…``, sent in ``X-Kefu-Key``) and a secret shown once. The signature is
hex HMAC-SHA256 with the secret over ``"{timestamp}.{raw body}"``. Secrets are longer than
SHA-256's 64-byte block, and HMAC (RFC 2104) hashes such a key with SHA-256 before use, so
HMAC(secret, m) = HMAC(SHA-256(secret), m): Kefu keeps only the hash and never the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import audit
from bot.core.storage import receipts
from bot.core.storage.models_loyalty import Integration

KEY_PREFIX = "kfk_"
SECRET_PREFIX = "kfs_"  # noqa: S105 - a prefix that marks secrets, not a secret
REPLAY_WINDOW = timedelta(seconds=300)
INTEGRATION_ADD = "integration.add"
INTEGRATION_REVOKE = "integration.revoke"


@dataclass(frozen=True, slots=True)
class NewKey:
    key_id: str
    secret: str
    name: str


class SignatureRefused(Exception):
    """Why a request's signature is not accepted (answered as 401)."""


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """What a client sends in ``X-Kefu-Signature`` (also used by tests and the benchmark)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def expected_signature(secret_hash: str, timestamp: str, body: bytes) -> str:
    """The signature, computed from the stored hash alone (see the module docstring)."""
    return hmac.new(bytes.fromhex(secret_hash), timestamp.encode() + b"." + body,
                    hashlib.sha256).hexdigest()


def check_timestamp(timestamp: str | None, *, now: datetime) -> None:
    if not timestamp:
        raise SignatureRefused("X-Kefu-Timestamp is missing")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureRefused("X-Kefu-Timestamp must be Unix seconds")
    drift = abs(now.timestamp() - int(timestamp))
    if drift > REPLAY_WINDOW.total_seconds():
        raise SignatureRefused(f"X-Kefu-Timestamp is {int(drift)} s away from Kefu's clock; "
                               f"requests older than {int(REPLAY_WINDOW.total_seconds())} s are "
                               "refused (check the till's clock)")


async def authenticate(
    session: AsyncSession, *, key_id: str | None, timestamp: str | None,
    signature: str | None, body: bytes, now: datetime,
) -> Integration:
    """The integration that signed the request; the signature is then spent.

    Raises:
        SignatureRefused: missing headers, unknown or revoked key, stale timestamp, wrong
            signature, or a signature already used (a replay).
    """
    if not key_id or not signature:
        raise SignatureRefused("X-Kefu-Key and X-Kefu-Signature are required")
    check_timestamp(timestamp, now=now)
    assert timestamp is not None
    integration = await receipts.find_integration(session, key_id=key_id[:32])
    if integration is None or integration.revoked_at is not None:
        raise SignatureRefused("unknown or revoked key")
    expected = expected_signature(integration.secret_hash, timestamp, body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise SignatureRefused("signature does not match the body and timestamp")
    if not await receipts.claim_signature(session, signature=expected, now=now,
                                          window=REPLAY_WINDOW):
        raise SignatureRefused("this signed request was already received (replay)")
    await receipts.mark_used(session, integration_id=integration.id, now=now)
    return integration


async def add_key(session: AsyncSession, *, name: str, actor: str, now: datetime) -> NewKey:
    """Creates a key; the secret is in the result only, never stored. Audited."""
    key_id = KEY_PREFIX + secrets.token_hex(8)
    secret = SECRET_PREFIX + secrets.token_urlsafe(64)
    await receipts.add_integration(session, key_id=key_id, name=name,
                                   secret_hash=hash_secret(secret), now=now)
    await audit.record(session, actor=actor, action=INTEGRATION_ADD, subject=key_id,
                       detail={"name": name}, now=now)
    return NewKey(key_id, secret, name)


async def revoke_key(session: AsyncSession, *, key_id: str, actor: str, now: datetime) -> bool:
    revoked = await receipts.revoke_integration(session, key_id=key_id, now=now)
    if revoked:
        await audit.record(session, actor=actor, action=INTEGRATION_REVOKE, subject=key_id,
                           now=now)
    return revoked
