import pytest

from bot.core.crypto import DecryptionError, FieldCipher, mask_name, mask_phone


def test_round_trip_and_no_plaintext_in_ciphertext() -> None:
    cipher = FieldCipher(b"one secret")
    token = cipher.encrypt("+8613800000001")
    assert "13800000001" not in token
    assert token != cipher.encrypt("+8613800000001")  # fresh nonce each time
    assert cipher.decrypt(token) == "+8613800000001"


def test_tampered_value_is_refused() -> None:
    cipher = FieldCipher(b"one secret")
    token = cipher.encrypt("张伟")
    head, body = token.rsplit(":", 1)
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(DecryptionError):
        cipher.decrypt(f"{head}:{flipped}")


def test_other_key_is_named_in_the_error() -> None:
    token = FieldCipher(b"old").encrypt("x")
    with pytest.raises(DecryptionError, match="KEFU_SECRET_KEY"):
        FieldCipher(b"new").decrypt(token)


def test_blind_index_is_stable_and_keyed() -> None:
    a, b = FieldCipher(b"k1"), FieldCipher(b"k2")
    assert a.blind_index("+8613800000001") == a.blind_index("+8613800000001")
    assert a.blind_index("+8613800000001") != b.blind_index("+8613800000001")


def test_masks() -> None:
    assert mask_phone("+8613800000001") == "138****0001"
    assert mask_phone("+85291234567") == "91**4567"
    assert mask_name("张三丰") == "张**"
    assert mask_name("Emily Zhao") == "E**** Z***"
    assert mask_phone(None) is None
