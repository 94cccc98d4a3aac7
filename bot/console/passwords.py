"""Agent passwords: argon2id hashes, never the passwords themselves."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
_HASHER = PasswordHasher()
# Verified against when the email is unknown, so a wrong email costs as long as a wrong
# password and response times do not tell which accounts exist.
_DUMMY = _HASHER.hash("kefu-no-such-agent-password")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_strength(password: str) -> str | None:
    """Why ``password`` is too weak, or ``None`` when it will do."""
    if len(password) < MIN_LENGTH:
        return f"the password needs at least {MIN_LENGTH} characters"
    if password.isdigit() or password.isalpha():
        return "the password needs letters and digits or symbols, not only one kind"
    return None


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True after the hashing parameters were raised: rehash at the next good login."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
