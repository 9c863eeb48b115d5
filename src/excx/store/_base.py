"""What every store backend offers: canonical tables through Ibis, atomic writes."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping

import ibis
import pyarrow as pa

from excx import schema
from excx.errors import StoreError

log = logging.getLogger("excx")


class Store(ABC):
    """The canonical tables of one database, reached through Ibis.

    Attributes
    ----------
    url
        The URL the store was opened with.
    con
        The Ibis backend; expressions built on :meth:`table` run in it.
    """

    backend: str

    def __init__(self, url: str, con: ibis.BaseBackend) -> None:
        self.url = url
        self.con = con

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def init(self) -> None:
        """Create the canonical tables that do not exist yet; safe to call again."""
        existing = set(self.con.list_tables())
        for table in schema.TABLES.values():
            if table.name not in existing:
                self._create(table)
                log.info("created table %s in %s", table.name, self.url)

    def table(self, name: str) -> ibis.Table:
        """Return the canonical table `name` as an Ibis expression."""
        schema.table(name)
        try:
            return self.con.table(name)
        except Exception as exc:  # each backend raises its own "not found"
            raise StoreError(
                f"table {name!r} is missing from {self.url}; run `excx init` first"
            ) from exc

    def count(self, name: str) -> int:
        """Number of rows in the canonical table `name`."""
        return int(self.table(name).count().execute())

    def execute(self, expr: ibis.Expr):
        """Run `expr` in the engine and return a pandas object."""
        return self.con.execute(expr)

    def to_pyarrow(self, expr: ibis.Expr) -> pa.Table:
        """Run `expr` in the engine and return an Arrow table."""
        return self.con.to_pyarrow(expr)

    def write(self, rows: Mapping[str, pa.Table]) -> None:
        """Append rows to canonical tables, all or nothing.

        Parameters
        ----------
        rows
            Table name to an Arrow table whose columns are a subset of the canonical
            columns; missing columns are stored as null. Every table is written in
            one transaction: on any error nothing is written.
        """
        prepared = {name: self._conform(name, data) for name, data in rows.items()}
        self._write_atomic(prepared)
        for name, data in prepared.items():
            log.info("wrote %d rows to %s", data.num_rows, name)

    def existing_keys(self, name: str, keys: pa.Array) -> pa.Array:
        """Return the values of `keys` that already exist as ``name``'s first key."""
        column = schema.table(name).key[0]
        probe = ibis.memtable(pa.table({column: keys.cast(pa.string())}))
        stored = self.table(name).select(column)
        found = probe.semi_join(stored, column).select(column).distinct()
        return self.to_pyarrow(found).column(column).combine_chunks()

    def close(self) -> None:
        """Close the connection."""
        self.con.disconnect()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def _conform(name: str, data: pa.Table) -> pa.Table:
        table = schema.table(name)
        unknown = set(data.column_names) - set(table.columns)
        if unknown:
            raise StoreError(f"columns {sorted(unknown)} are not in table {name!r}")
        arrow_schema = table.schema.to_pyarrow()
        columns = []
        for field in arrow_schema:
            if field.name not in data.column_names:
                columns.append(pa.nulls(data.num_rows, field.type))
                continue
            try:
                columns.append(data.column(field.name).cast(field.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise StoreError(
                    f"table {name!r}, column {field.name!r}: values cannot be stored "
                    f"as {field.type}: {exc}"
                ) from exc
        return pa.Table.from_arrays(columns, schema=arrow_schema)

    def _create(self, table: schema.Table) -> None:
        self.con.create_table(table.name, schema=table.schema)

    @abstractmethod
    def _write_atomic(self, rows: Mapping[str, pa.Table]) -> None: ...
