"""Key rotation: re-encrypt personal data and message texts under the current key, in
resumable batches.

To rotate: set the new secret in KEFU_SECRET_KEY and the old one in KEFU_SECRET_KEY_PREVIOUS,
restart every Kefu process (they now write with the new key and read both), then run
`kefu keys rotate`. Each batch is its own transaction, so the bot keeps serving and an
interrupted run simply continues where it stopped when started again. When `kefu keys status`
shows nothing left under the old key, drop KEFU_SECRET_KEY_PREVIOUS.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.crypto import Keyring, key_id_of
from bot.core.errors import ConfigError
from bot.core.storage.db import transaction
from bot.core.storage.models import Member, Message
from bot.core.storage.sealed import unseal
from bot.features.members.directory import LEGACY_PLAIN, Directory

ENCRYPTED_FIELDS = ("phone_enc", "name_enc", "birthday_enc", "address_enc")
PLAIN = "plain"


@dataclass(frozen=True, slots=True)
class RotationReport:
    rows_scanned: int
    rows_changed: int
    values_reencrypted: int
    batches: int
    # Message texts (transcripts) encrypted with the current key: older keys or plaintext.
    messages_reencrypted: int = 0


def _stale(directory: Directory, value: str | None) -> bool:
    return bool(value) and not directory.keyring.is_current(value or "")


def rotate_member(directory: Directory, member: Member) -> int:
    """Re-encrypts ``member``'s stale values (and their blind indexes); returns how many."""
    changed = 0
    if _stale(directory, member.phone_enc):
        directory.set_phone(member, directory.phone(member))
        changed += 1
    if _stale(directory, member.name_enc):
        directory.set_name(member, directory.name(member))
        changed += 1
    if _stale(directory, member.birthday_enc):
        directory.set_birthday(member, directory.birthday(member))
        changed += 1
    if _stale(directory, member.address_enc):
        directory.set_address(member, directory.address(member))
        changed += 1
    return changed


async def rotate_keys(
    sessions: async_sessionmaker[AsyncSession],
    *,
    directory: Directory,
    batch: int = 500,
    progress: Callable[[int], None] | None = None,
) -> RotationReport:
    """Walks the members by id, ``batch`` rows per transaction.

    Raises:
        DecryptionError: a value was written with a key that is not configured (nothing of
            that batch is changed; the batches before it stay rotated).
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    last_id, scanned, rows_changed, values, batches = 0, 0, 0, 0, 0
    while True:
        async with transaction(sessions) as session:
            members = list((await session.execute(
                select(Member).where(Member.id > last_id).order_by(Member.id).limit(batch)
            )).scalars())
            for member in members:
                count = rotate_member(directory, member)
                values += count
                rows_changed += count > 0
        if not members:
            break
        batches += 1
        scanned += len(members)
        last_id = members[-1].id
        if progress is not None:
            progress(len(members))
    messages = await rotate_messages(sessions, keyring=directory.keyring, batch=batch)
    return RotationReport(scanned, rows_changed, values, batches, messages)


async def rotate_messages(
    sessions: async_sessionmaker[AsyncSession], *, keyring: Keyring, batch: int = 500
) -> int:
    """Encrypts message texts under the current key (those under a previous key, and those
    stored in plaintext before transcripts were encrypted); returns how many changed."""
    last_id, changed = 0, 0
    while True:
        async with transaction(sessions) as session:
            # Columns, not entities: the raw stored values (loading a Message decrypts it).
            rows = (await session.execute(
                select(Message.id, Message.text).where(Message.id > last_id)
                .order_by(Message.id).limit(batch))).all()
            for row_id, stored in rows:
                if not stored or keyring.is_current(stored):
                    continue
                await session.execute(update(Message).where(Message.id == row_id).values(
                    text=keyring.encrypt(unseal(keyring, stored))))
                changed += 1
        if not rows:
            return changed
        last_id = rows[-1][0]


async def message_key_usage(session: AsyncSession) -> Counter[str]:
    """How many message texts each key id (or "plain") holds; erased texts are not counted."""
    prefix = func.substr(Message.text, 1, 14)
    usage: Counter[str] = Counter()
    rows = await session.execute(
        select(prefix, func.count()).where(Message.text != "").group_by(prefix))
    for head, count in rows.all():
        usage[key_id_of(str(head)) or PLAIN] += int(count)
    return usage


async def key_usage(session: AsyncSession) -> Counter[str]:
    """How many stored values each key id (or "plain", not yet encrypted) holds."""
    usage: Counter[str] = Counter()
    for field in ENCRYPTED_FIELDS:
        column = getattr(Member, field)
        prefix = func.substr(column, 1, 14)
        rows = await session.execute(
            select(prefix, func.count()).where(column.is_not(None)).group_by(prefix))
        for head, count in rows.all():
            text = str(head)
            usage[PLAIN if text.startswith(LEGACY_PLAIN) else (key_id_of(text) or "unknown")] \
                += int(count)
    return usage


async def check_keys(session: AsyncSession, *, directory: Directory) -> Counter[str]:
    """The key usage; raises when stored values name a key Kefu was not given.

    Raises:
        ConfigError: naming the missing key ids and the variables to set.
    """
    usage = await key_usage(session)
    known = {*directory.keyring.key_ids, PLAIN}
    missing = {kid: n for kid, n in usage.items() if kid not in known}
    if missing:
        listed = ", ".join(f"{kid} ({n} value(s))" for kid, n in sorted(missing.items()))
        raise ConfigError(
            f"Stored personal data was encrypted with key(s) {listed} that Kefu does not have "
            f"(KEFU_SECRET_KEY is key {directory.cipher.key_id}). Set KEFU_SECRET_KEY to the "
            "secret that wrote them, or add it to KEFU_SECRET_KEY_PREVIOUS")
    return usage


async def seal_plain_values(
    sessions: async_sessionmaker[AsyncSession], *, directory: Directory
) -> int:
    """Encrypts values a migration left as ``plain:`` placeholders; returns how many.
    Runs right after migrating, so plaintext does not outlive the upgrade."""
    async with transaction(sessions) as session:
        waiting = await session.scalar(select(func.count()).select_from(Member).where(
            Member.birthday_enc.startswith(LEGACY_PLAIN)))
    if not waiting:
        return 0
    return (await rotate_keys(sessions, directory=directory)).values_reencrypted
