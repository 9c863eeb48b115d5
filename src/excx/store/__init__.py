"""Open the canonical store: a DuckDB file by default, PostgreSQL for a server.

>>> import excx
>>> store = excx.connect("duckdb://:memory:")
>>> store.init()
>>> store.count("customer_responses")
0
"""

from __future__ import annotations

import os

from excx.errors import InputError
from excx.store._base import Store

__all__ = ["Store", "connect", "resolve_url", "DEFAULT_URL"]

DEFAULT_URL = "duckdb://excx.duckdb"


def resolve_url(url: str | None = None) -> str:
    """Return the store URL to use: `url`, else ``EXCX_STORE``, else the default file.

    A bare path ending in ``.duckdb`` is read as a DuckDB file.
    """
    url = url or os.environ.get("EXCX_STORE") or DEFAULT_URL
    if url.endswith(".duckdb") and "://" not in url:
        url = f"duckdb://{url}"
    return url


def connect(url: str | None = None) -> Store:
    """Open the store at `url` (see :func:`resolve_url`).

    Parameters
    ----------
    url
        ``duckdb://path/to/file.duckdb``, ``duckdb://:memory:``, a path ending in
        ``.duckdb``, or ``postgresql://user:password@host:port/database``.

    Returns
    -------
    Store
        The open store. Call :meth:`Store.init` once to create the tables.
    """
    url = resolve_url(url)
    scheme = url.split("://", 1)[0]
    if scheme == "duckdb":
        from excx.store.duckdb import DuckDBStore

        return DuckDBStore(url)
    if scheme in ("postgresql", "postgres"):
        from excx.store.postgres import PostgresStore

        return PostgresStore(url)
    raise InputError(
        f"store URL {url!r} has scheme {scheme!r}; accepted: duckdb://PATH, "
        "a path ending in .duckdb, postgresql://USER@HOST:PORT/DATABASE"
    )
