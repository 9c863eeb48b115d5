"""The embedded default: one DuckDB file, nothing to start."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import ibis
import pyarrow as pa

from excx.errors import StoreError
from excx.store._base import Store


class DuckDBStore(Store):
    """A store in a DuckDB file (or in memory, for ``duckdb://:memory:``)."""

    backend = "duckdb"

    def __init__(self, url: str) -> None:
        path = url.split("://", 1)[1] or ":memory:"
        if path != ":memory:" and not Path(path).parent.exists():
            raise StoreError(
                f"folder {Path(path).parent} for store {url} does not exist"
            )
        try:
            con = ibis.duckdb.connect(path)
        except Exception as exc:
            raise StoreError(f"cannot open DuckDB store {path}: {exc}") from exc
        # DuckDB's progress bar writes to stdout: it would corrupt `--format json`.
        con.raw_sql("SET enable_progress_bar = false")
        super().__init__(url, con)
        self.path = path

    @property
    def raw(self):
        """The underlying ``duckdb`` connection."""
        return self.con.con

    @contextlib.contextmanager
    def _atomic(self) -> Iterator[None]:
        raw = self.raw
        raw.begin()
        try:
            yield
        except BaseException:
            raw.rollback()
            raise
        raw.commit()

    def _changed_rows(self, sql: str) -> int:
        return int(self.raw.execute(sql).fetchone()[0])

    def _write_atomic(self, rows: Mapping[str, pa.Table]) -> None:
        raw = self.raw
        for name, data in rows.items():
            view = f"_excx_incoming_{name}"
            raw.register(view, data)
            try:
                raw.execute(f'INSERT INTO "{name}" SELECT * FROM "{view}"')
            finally:
                raw.unregister(view)
