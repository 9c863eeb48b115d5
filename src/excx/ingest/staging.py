"""Where an import runs: a DuckDB connection for staging, one import at a time.

A DuckDB store stages on its own connection, so that the rows go from the staging
tables into the store in one statement; any other store gets an in-memory DuckDB
that spills to a temporary folder. Imports into one PostgreSQL database take turns
under an advisory lock.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from excx.ingest.parse import quote
from excx.store import Store

__all__ = ["MEMORY_LIMIT", "IMPORT_LOCK", "one_import_at_a_time", "staging"]

MEMORY_LIMIT = "1GB"
# Key of the PostgreSQL advisory lock that serialises imports into one database.
IMPORT_LOCK = 0x657863785F696D70  # "excx_imp"


def one_import_at_a_time(store: Store) -> contextlib.AbstractContextManager:
    """Hold the store's import lock, so that imports from several processes run
    one after the other and the checks against the store (keys, units, the
    earlier import of the same bytes) still hold when the rows are written."""
    return store.exclusive(IMPORT_LOCK)


@contextlib.contextmanager
def staging(store: Store) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path, str]]:
    """A DuckDB connection for staging: the store's own, or an in-memory one."""
    prefix = f"_excx_stage_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="excx-import-") as folder:
        workdir = Path(folder)
        if store.backend == "duckdb":
            con = store.raw
        else:
            con = duckdb.connect()
            con.execute(f"SET temp_directory = '{workdir / 'spill'}'")
        # The staging tables spill to disk beyond the memory limit, so a file
        # larger than memory streams; DuckDB's own progress bar would print.
        settings = {
            "memory_limit": f"'{MEMORY_LIMIT}'",
            "enable_progress_bar": "false",
        }
        previous = _settings(con, settings)
        try:
            yield con, workdir, prefix
        finally:
            if con is store.raw:
                _drop_staging(con, prefix)
                _settings(con, previous)
            else:
                con.close()


def _settings(con: duckdb.DuckDBPyConnection, values: dict[str, str]) -> dict:
    """Apply DuckDB settings; return the previous values, as SQL literals."""
    previous = {}
    for name, value in values.items():
        (current,) = con.execute(f"SELECT current_setting('{name}')").fetchone()
        previous[name] = f"'{current}'" if isinstance(current, str) else str(current)
        con.execute(f"SET {name} = {value}")
    return previous


def _drop_staging(con: duckdb.DuckDBPyConnection, prefix: str) -> None:
    found = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_catalog = 'temp' AND table_name LIKE ?",
        [f"{prefix}%"],
    ).fetchall()
    for name, kind in sorted(found, key=lambda f: f[1] != "VIEW"):
        what = "VIEW" if kind == "VIEW" else "TABLE"
        con.execute(f"DROP {what} IF EXISTS temp.{quote(name)}")
