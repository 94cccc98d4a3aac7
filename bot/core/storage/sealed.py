"""Message texts encrypted at rest with the members' keyring (bot/core/crypto.py).

Transcripts quote whatever customers and the bot wrote, names and addresses included, so
``messages.text`` is stored as ``enc1:<key id>:…`` like the members' personal data. The ORM
does it for every reader and writer: a session made by :func:`bot.core.storage.db.make_sessionmaker`
with a keyring carries it in ``session.info``; loading a :class:`Message` decrypts its text,
flushing one encrypts it. Code that writes ``messages.text`` with Core statements (the
insert-or-ignore of inbound messages) calls :func:`seal` itself. Values that are not in the
encrypted format (rows older than this, the erasure marker) are read as they are; `kefu keys
rotate` encrypts them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from bot.core.crypto import Keyring, key_id_of
from bot.core.storage.models import Message

INFO_KEY = "kefu_keyring"


def keyring_of(session: Session | Any) -> Keyring | None:
    """The keyring a session (sync or async) was made with, if any."""
    keyring = session.info.get(INFO_KEY) if session is not None else None
    return keyring if isinstance(keyring, Keyring) else None


def seal(keyring: Keyring | None, text: str) -> str:
    """``text`` encrypted with the current key (as it is without a keyring, or when empty)."""
    if keyring is None or not text or key_id_of(text) is not None:
        return text
    return keyring.encrypt(text)


def unseal(keyring: Keyring | None, stored: str) -> str:
    """The plaintext of a stored text; plaintext (legacy, erased) passes through."""
    if keyring is None or key_id_of(stored) is None:
        return stored
    return keyring.decrypt(stored)


def _keyring_of_target(target: Message) -> Keyring | None:
    return keyring_of(object_session(target))


@event.listens_for(Message, "before_insert")
@event.listens_for(Message, "before_update")
def _seal_before_write(_mapper: Any, _connection: Any, target: Message) -> None:
    target.text = seal(_keyring_of_target(target), target.text)


@event.listens_for(Message, "after_insert")
@event.listens_for(Message, "after_update")
def _plain_after_write(_mapper: Any, _connection: Any, target: Message) -> None:
    # The row holds the ciphertext; the object in memory goes on holding the plaintext.
    set_committed_value(target, "text", unseal(_keyring_of_target(target), target.text))


@event.listens_for(Message, "load")
def _unseal_on_load(target: Message, context: Any) -> None:
    if "text" in target.__dict__:
        set_committed_value(target, "text", unseal(keyring_of(context.session), target.text))


@event.listens_for(Message, "refresh")
def _unseal_on_refresh(target: Message, context: Any, attrs: Any) -> None:
    _unseal_on_load(target, context)
