"""Passwords, session ids, CSRF tokens, signed survey links and login throttling.

Nothing here touches the store; :mod:`excx.api.users`, :mod:`excx.api.surveys` and
:mod:`excx.api.customer_links` keep what must be kept.

>>> token = new_secret()
>>> len(token) >= 40 and digest(token) != token
True
>>> verify_signed(sign({"a": 1}, secret="k" * 32), secret="k" * 32)
{'a': 1}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import defaultdict, deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from excx.errors import InputError

__all__ = [
    "hash_password",
    "verify_password",
    "new_secret",
    "digest",
    "derive",
    "sign",
    "verify_signed",
    "LoginThrottle",
]

_hasher = PasswordHasher()
# Compared against when the user does not exist, so that timing does not tell.
_DUMMY_HASH = _hasher.hash("excx-no-such-user")


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (salted; parameters in the hash)."""
    if len(password) < 8:
        raise InputError(
            f"the password has {len(password)} characters; accepted: at least 8"
        )
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if `password` matches `password_hash` (None: no such user)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    """A random URL-safe token of 256 bits (session ids, pulse tokens)."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """SHA-256 hex digest of a random token: what the store keeps instead of it."""
    return hashlib.sha256(token.encode()).hexdigest()


def derive(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value` for one `purpose`, URL-safe (CSRF, form tokens)."""
    mac = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256)
    return _b64(mac.digest())


def sign(payload: dict, *, secret: str) -> str:
    """`payload` as compact JSON in base64url, a dot, and its HMAC-SHA256."""
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{derive(secret, 'link', body)}"


def verify_signed(token: str, *, secret: str) -> dict | None:
    """The payload of a :func:`sign` token, or None if it was altered."""
    body, _, mac = token.partition(".")
    if not mac or not hmac.compare_digest(mac, derive(secret, "link", body)):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class LoginThrottle:
    """Failed logins per (username, address) in a sliding window, in memory.

    Parameters
    ----------
    failures
        Failures allowed in the window; the next attempt is refused.
    window_seconds
        Length of the window.

    Notes
    -----
    The count lives in the server process: behind several worker processes each
    counts on its own, so the effective limit is ``failures × workers``.

    Examples
    --------
    >>> throttle = LoginThrottle(failures=2, window_seconds=60)
    >>> throttle.fail("ann", "10.0.0.1"); throttle.fail("ann", "10.0.0.1")
    >>> throttle.blocked("ann", "10.0.0.1"), throttle.blocked("ann", "10.0.0.2")
    (True, False)
    """

    def __init__(self, *, failures: int, window_seconds: float) -> None:
        self.failures = failures
        self.window_seconds = window_seconds
        self._seen: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, username: str, address: str) -> bool:
        """True when this pair has used up its failures within the window."""
        with self._lock:
            return len(self._recent((username.lower(), address))) >= self.failures

    def fail(self, username: str, address: str) -> None:
        """Count one failed login."""
        with self._lock:
            key = (username.lower(), address)
            self._recent(key).append(time.monotonic())

    def reset(self, username: str, address: str) -> None:
        """Forget the failures of a pair after a successful login."""
        with self._lock:
            self._seen.pop((username.lower(), address), None)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        times = self._seen[key]
        horizon = time.monotonic() - self.window_seconds
        while times and times[0] < horizon:
            times.popleft()
        return times
