"""Passwords, signed links and the login throttle."""

from __future__ import annotations

import time

import pytest

from excx.api.security import (
    LoginThrottle,
    hash_password,
    sign,
    verify_password,
    verify_signed,
)
from excx.errors import InputError

SECRET = "k" * 40


def test_password_hash_is_argon2_and_salted():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, "correct horse")
    assert not verify_password(first, "correct horsE")
    assert not verify_password(None, "correct horse")
    assert not verify_password("not-a-hash", "correct horse")
    with pytest.raises(InputError, match="at least 8"):
        hash_password("short")


def test_signed_payload_cannot_be_altered():
    token = sign({"u": "R1-B001", "c": "store"}, secret=SECRET)
    assert verify_signed(token, secret=SECRET) == {"u": "R1-B001", "c": "store"}
    body, mac = token.split(".")
    forged = sign({"u": "R2-B001", "c": "store"}, secret=SECRET).split(".")[0]
    assert verify_signed(f"{forged}.{mac}", secret=SECRET) is None
    assert verify_signed(token, secret="other" * 10) is None
    assert verify_signed(body, secret=SECRET) is None
    assert verify_signed("", secret=SECRET) is None


def test_throttle_forgets_after_the_window():
    throttle = LoginThrottle(failures=2, window_seconds=0.2)
    throttle.fail("Ann", "1.2.3.4")
    assert not throttle.blocked("ann", "1.2.3.4")
    throttle.fail("ann", "1.2.3.4")
    assert throttle.blocked("ANN", "1.2.3.4")
    time.sleep(0.25)
    assert not throttle.blocked("ann", "1.2.3.4")
