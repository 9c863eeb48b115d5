"""Helpers for the importer tests: a store with units, files written in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from excx import schema
from excx.errors import ExcxError
from excx.ingest import import_file

UNITS_CSV = """unit_id,name,parent_id,kind,region
C,Banca Esempio,,company,
R1,Centro,C,region,Lazio
B1,Roma Centro,R1,branch,Lazio
B2,Roma Nord,R1,branch,Lazio
"""


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to folder/name in `encoding` (newlines kept as given)."""
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def counts(store) -> dict[str, int]:
    """Row count of every canonical table."""
    return {name: store.count(name) for name in schema.TABLES}


def rejected(store, target: str, path: Path, *fragments: str, **options):
    """Import `path`, expect an excx error naming every fragment, and no writes."""
    before = counts(store)
    with pytest.raises(ExcxError) as caught:
        import_file(store, target, path, **options)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    assert counts(store) == before
    return caught.value


@pytest.fixture
def units_store(store, tmp_path):
    """The `store` fixture (both backends) holding the units C > R1 > B1, B2."""
    import_file(store, "units", write(tmp_path, "units.csv", UNITS_CSV))
    return store


@pytest.fixture
def units_duckdb(duckdb_store, tmp_path):
    """A DuckDB store holding the units C > R1 > B1, B2."""
    import_file(duckdb_store, "units", write(tmp_path, "units.csv", UNITS_CSV))
    return duckdb_store
