"""Users of the service and their login sessions, kept in the store.

>>> import excx
>>> store = excx.connect("duckdb://:memory:"); store.init()
>>> add_user(store, "ann", "correct horse", role="admin")
>>> authenticate(store, "ann", "correct horse").role
'admin'
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from excx import schema
from excx.api.db import arrow_rows, now, run
from excx.api.security import digest, hash_password, new_secret, verify_password
from excx.errors import InputError
from excx.store import Store

__all__ = [
    "User",
    "add_user",
    "find_user",
    "authenticate",
    "start_session",
    "session_user",
    "end_session",
]

log = logging.getLogger("excx")


@dataclass(frozen=True)
class User:
    """A user: name, role, and for a manager the top unit of their subtree."""

    username: str
    role: str
    unit_id: str | None = None


def add_user(
    store: Store,
    username: str,
    password: str,
    *,
    role: str,
    unit_id: str | None = None,
) -> None:
    """Create a user with an argon2 hash of `password`.

    Raises
    ------
    InputError
        If the role is unknown, a manager has no unit (or a non-manager has
        one), the unit does not exist, the password is shorter than 8
        characters, or the username is taken or malformed.
    """
    roles = schema.TABLES["users"].allowed["role"]
    if role not in roles:
        raise InputError(f"role {role!r}; accepted: {', '.join(roles)}")
    if (role == "manager") != (unit_id is not None):
        raise InputError(
            "a manager needs --unit UNIT_ID (the top of their subtree); other roles "
            "see every unit and take no --unit"
        )
    if not username or not username.replace("_", "").replace(".", "").isalnum():
        raise InputError(
            f"username {username!r}; accepted: letters, digits, '.' and '_'"
        )
    if unit_id is not None and not run(
        store, "SELECT 1 FROM units WHERE unit_id = ?", (unit_id,)
    ):
        raise InputError(f"unit {unit_id!r} is not in the units table")
    if find_user(store, username) is not None:
        raise InputError(f"user {username!r} exists already")
    rows = arrow_rows(
        "users",
        {
            "username": [username],
            "password_hash": [hash_password(password)],
            "role": [role],
            "unit_id": [unit_id],
            "created_at": [now()],
        },
    )
    store.write({"users": rows})
    log.info("added user %s with role %s", username, role)


def find_user(store: Store, username: str) -> User | None:
    """The user called `username`, or None."""
    found = run(
        store,
        "SELECT username, role, unit_id FROM users WHERE username = ?",
        (username,),
    )
    return User(*found[0]) if found else None


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The user if `password` is theirs, else None (same work either way)."""
    found = run(
        store, "SELECT password_hash FROM users WHERE username = ?", (username,)
    )
    if not verify_password(found[0][0] if found else None, password):
        return None
    return find_user(store, username)


def start_session(store: Store, user: User, *, hours: float) -> str:
    """Open a session; returns its random id (only its hash is stored)."""
    session_id = new_secret()
    started = now()
    rows = arrow_rows(
        "sessions",
        {
            "session_hash": [digest(session_id)],
            "username": [user.username],
            "created_at": [started],
            "expires_at": [started + dt.timedelta(hours=hours)],
        },
    )
    store.write({"sessions": rows})
    return session_id


def session_user(store: Store, session_id: str) -> User | None:
    """The user of an unexpired session, or None."""
    found = run(
        store,
        "SELECT u.username, u.role, u.unit_id FROM sessions s "
        "JOIN users u ON u.username = s.username "
        "WHERE s.session_hash = ? AND s.expires_at > ?",
        (digest(session_id), now()),
    )
    return User(*found[0]) if found else None


def end_session(store: Store, session_id: str) -> None:
    """Delete a session (logout), and every expired one with it."""
    run(
        store,
        "DELETE FROM sessions WHERE session_hash = ? OR expires_at <= ?",
        (digest(session_id), now()),
    )
