"""Field encryption (AES-GCM) and blind indexes (HMAC) for personal data at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import phonenumbers
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.core.errors import KefuError

_PREFIX = "enc1"


class DecryptionError(KefuError):
    """A stored value cannot be decrypted: tampered, or written with another key."""


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kefu", info=purpose).derive(secret)


class FieldCipher:
    """Encrypts short strings; each value carries the id of the key that wrote it."""

    __slots__ = ("_aead", "_index_key", "key_id")

    def __init__(self, secret: bytes) -> None:
        data_key = _derive(secret, b"kefu/field-encryption/v1")
        self._aead = AESGCM(data_key)
        self._index_key = _derive(secret, b"kefu/blind-index/v1")
        # A short fingerprint of the key, not the key: lets rotation find what to re-encrypt.
        self.key_id = hashlib.sha256(data_key).hexdigest()[:8]

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), self.key_id.encode())
        return f"{_PREFIX}:{self.key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str) -> str:
        try:
            prefix, key_id, body = token.split(":", 2)
        except ValueError as exc:
            raise DecryptionError("stored value is not in Kefu's encrypted format") from exc
        if prefix != _PREFIX:
            raise DecryptionError("stored value is not in Kefu's encrypted format")
        if key_id != self.key_id:
            raise DecryptionError(f"value was encrypted with key {key_id}, current key is "
                                  f"{self.key_id}; set the matching KEFU_SECRET_KEY")
        raw = base64.urlsafe_b64decode(body.encode())
        try:
            return self._aead.decrypt(raw[:12], raw[12:], key_id.encode()).decode()
        except InvalidTag as exc:
            raise DecryptionError("stored value failed its integrity check") from exc

    def blind_index(self, value: str) -> str:
        """A keyed hash for equality lookups (phone numbers) without storing the value."""
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()


class Keyring:
    """The current cipher and the previous ones a rotation still needs to read.

    Values are written with :attr:`current`; a value is read with the cipher its key id names,
    so data written before a rotation stays readable until `kefu keys rotate` re-encrypts it.
    """

    __slots__ = ("_by_id", "current", "previous")

    def __init__(self, current: FieldCipher, previous: tuple[FieldCipher, ...] = ()) -> None:
        self.current = current
        self.previous = tuple(c for c in previous if c.key_id != current.key_id)
        self._by_id = {c.key_id: c for c in (current, *self.previous)}

    @classmethod
    def from_secrets(cls, secret: bytes, previous: tuple[bytes, ...] = ()) -> Keyring:
        return cls(FieldCipher(secret), tuple(FieldCipher(p) for p in previous))

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def encrypt(self, plaintext: str) -> str:
        return self.current.encrypt(plaintext)

    def decrypt(self, token: str) -> str:
        cipher = self._by_id.get(key_id_of(token) or "")
        if cipher is None:
            kid = key_id_of(token)
            if kid is None:
                raise DecryptionError("stored value is not in Kefu's encrypted format")
            raise DecryptionError(
                f"value was encrypted with key {kid}, which is neither KEFU_SECRET_KEY (key "
                f"{self.current.key_id}) nor in KEFU_SECRET_KEY_PREVIOUS "
                f"({', '.join(c.key_id for c in self.previous) or 'not set'}); set "
                "KEFU_SECRET_KEY_PREVIOUS to the secret that wrote it")
        return cipher.decrypt(token)

    def is_current(self, token: str) -> bool:
        return key_id_of(token) == self.current.key_id

    def blind_index(self, value: str) -> str:
        return self.current.blind_index(value)

    def blind_indexes(self, value: str) -> list[str]:
        """The value's index under every key: look-ups work while a rotation is under way."""
        return [cipher.blind_index(value) for cipher in self._by_id.values()]


def key_id_of(token: str) -> str | None:
    """The key id an encrypted value names, or ``None`` when it is not one."""
    prefix, _, rest = token.partition(":")
    key_id = rest.partition(":")[0]
    return key_id if prefix == _PREFIX and key_id else None


def mask_phone(phone: str | None) -> str | None:
    """+8613800000001 → 138****0001: enough to recognise, not enough to call."""
    if not phone:
        return phone
    try:
        digits = str(phonenumbers.parse(phone, "CN").national_number)
    except phonenumbers.NumberParseException:
        digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 10 else 2
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]


def mask_name(name: str | None) -> str | None:
    """张三丰 → 张**, Alice Chen → A**** C***: the first character of each word stays."""
    if not name:
        return name
    if " " in name.strip():
        return " ".join(w[:1] + "*" * (len(w) - 1) for w in name.split())
    return name[:1] + "*" * (len(name) - 1)


def mask_address(address: str | None) -> str | None:
    """上海市静安区南京西路1515号 → 上海市静安区****: the district stays, the street goes."""
    if not address:
        return address
    keep = min(6, max(1, len(address) // 3))
    return address[:keep] + "****"
