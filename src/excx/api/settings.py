"""Settings of the service, from the environment or a ``.env`` file.

>>> settings = Settings(store="duckdb://:memory:", secret_key="x" * 32)
>>> settings.check()
>>> settings.session_hours
12.0
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from excx.errors import InputError
from excx.store import resolve_url

__all__ = ["Settings", "load_settings", "read_env_file", "DEV_SECRET"]

#: The secret a development server uses; refused unless ``dev`` is set.
DEV_SECRET = "excx-development-secret-do-not-use-in-production"
_MIN_SECRET = 32
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """What the service needs to start.

    Attributes
    ----------
    store
        Store URL (``EXCX_STORE``); PostgreSQL for a shared server.
    secret_key
        Signs customer survey links and derives CSRF tokens (``EXCX_SECRET_KEY``,
        at least 32 characters).
    dev
        Development mode: accepts the built-in secret (``EXCX_DEV``).
    behind_tls
        Mark session cookies ``Secure`` even when the request reached the app as
        plain http, e.g. behind a TLS-terminating proxy (``EXCX_BEHIND_TLS``).
    public_url
        Base of the survey links excx hands out (``EXCX_PUBLIC_URL``).
    session_hours
        Lifetime of a login session (``EXCX_SESSION_HOURS``).
    max_body_bytes
        Largest request body accepted, except imports (``EXCX_MAX_BODY_BYTES``).
    max_import_bytes
        Largest file accepted by ``POST /api/v1/imports``
        (``EXCX_MAX_IMPORT_BYTES``).
    pool_size
        Open store connections for PostgreSQL (``EXCX_POOL_SIZE``); DuckDB uses
        one connection.
    login_failures, login_window_seconds
        Failed logins allowed per user and address within the window before
        further attempts get 429 (``EXCX_LOGIN_FAILURES``,
        ``EXCX_LOGIN_WINDOW_SECONDS``).
    """

    store: str
    secret_key: str
    dev: bool = False
    behind_tls: bool = False
    public_url: str = "http://127.0.0.1:8000"
    session_hours: float = 12.0
    max_body_bytes: int = 64 * 1024
    max_import_bytes: int = 50 * 1024 * 1024
    pool_size: int = 4
    login_failures: int = 5
    login_window_seconds: int = 300

    def check(self) -> None:
        """Refuse a missing, short or default secret outside development.

        Raises
        ------
        InputError
            If the secret is missing, shorter than 32 characters or the built-in
            development secret, and `dev` is False.
        """
        if self.dev:
            return
        if not self.secret_key or self.secret_key == DEV_SECRET:
            raise InputError(
                "EXCX_SECRET_KEY is missing or is the development default; set it to "
                f"a random string of at least {_MIN_SECRET} characters (e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
                "or start with --dev on a machine of your own"
            )
        if len(self.secret_key) < _MIN_SECRET:
            raise InputError(
                f"EXCX_SECRET_KEY has {len(self.secret_key)} characters; accepted: "
                f"at least {_MIN_SECRET}"
            )


def read_env_file(path: str | Path) -> dict[str, str]:
    """``KEY=value`` lines of a ``.env`` file (``#`` comments, optional quotes).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> env = pathlib.Path(tempfile.mkdtemp()) / ".env"
    >>> _ = env.write_text("# comment\\nEXCX_STORE='pg.duckdb'\\nEXCX_DEV=1\\n")
    >>> read_env_file(env)
    {'EXCX_STORE': 'pg.duckdb', 'EXCX_DEV': '1'}
    """
    values = {}
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not key.strip():
            raise InputError(
                f"{path}, line {number}: {line!r} is not KEY=value; accepted: "
                "KEY=value lines and # comments"
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_settings(
    *,
    store: str | None = None,
    dev: bool = False,
    env_file: str | Path | None = ".env",
    environ: dict[str, str] | None = None,
) -> Settings:
    """Settings from arguments, then the environment, then a ``.env`` file.

    Parameters
    ----------
    store
        Store URL; overrides ``EXCX_STORE``.
    dev
        Development mode; also set by ``EXCX_DEV=1``. Without a secret, a
        development server uses :data:`DEV_SECRET`.
    env_file
        A ``.env`` file read when it exists; its values lose to the environment.
    environ
        The environment (default ``os.environ``).

    Raises
    ------
    InputError
        If a number is malformed or the secret is refused (see
        :meth:`Settings.check`).
    """
    values = {}
    if env_file is not None and Path(env_file).is_file():
        values.update(read_env_file(env_file))
    values.update(os.environ if environ is None else environ)
    dev = dev or values.get("EXCX_DEV", "").lower() in _TRUE
    options: dict[str, object] = {
        "store": resolve_url(store or values.get("EXCX_STORE")),
        "secret_key": values.get("EXCX_SECRET_KEY") or (DEV_SECRET if dev else ""),
        "dev": dev,
    }
    for field in fields(Settings)[3:]:
        raw = values.get(f"EXCX_{field.name.upper()}")
        if raw is None:
            continue
        if field.type == "bool":
            options[field.name] = raw.lower() in _TRUE
            continue
        convert = {"int": int, "float": float}.get(field.type, str)
        try:
            options[field.name] = convert(raw)
        except ValueError:
            raise InputError(
                f"EXCX_{field.name.upper()}={raw!r}; accepted: a {field.type}"
            ) from None
    settings = Settings(**options)
    settings.check()
    return settings
