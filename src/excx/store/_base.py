"""What every store backend offers: canonical tables through Ibis, atomic writes,
and a generation number that every committed write raises."""

from __future__ import annotations

import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping

import ibis
import pyarrow as pa

from excx import schema
from excx.errors import StoreError

log = logging.getLogger("excx")

# Tables no figure reads: writing only these leaves the generation alone (a
# login must not throw away every cached figure).
QUIET_TABLES = frozenset({"sessions"})
_GENERATION = "store_generation"


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

    # SQL for the store_generation row a connection raises (see _bump).
    _slot_sql = "0"

    def __init__(self, url: str, con: ibis.BaseBackend) -> None:
        self.url = url
        self.con = con
        self._depth = 0  # nesting of transaction()
        self._bump_due = False

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

    def generation(self) -> int:
        """A number that every committed write through the store raises.

        One read of the tiny ``store_generation`` table: equal numbers mean
        the figure tables have not changed in between, in any process. Read it
        *before* computing a figure to be cached under it: the figure then
        reflects at least this generation, never an older one.
        """
        sql = f"SELECT coalesce(sum(generation), 0) FROM {_GENERATION}"
        try:
            return int(self.raw.execute(sql).fetchone()[0])
        except Exception as exc:  # each backend raises its own "not found"
            raise StoreError(
                f"cannot read the store generation of {self.url}: {exc}; if table "
                f"{_GENERATION!r} is missing, run `excx init`"
            ) from exc

    @contextlib.contextmanager
    def transaction(self, *, bump: bool = True) -> Iterator[None]:
        """Everything in the ``with`` block is committed at once, or nothing.

        The commit raises :meth:`generation` when any block inside it, nested
        or outermost, had `bump` true (the default): pass ``bump=False`` only
        for writes of :data:`QUIET_TABLES`. Nested blocks join the outermost
        transaction; an exception anywhere rolls it all back.
        """
        self._bump_due |= bump
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            with self._atomic():
                yield
                if self._bump_due:
                    self._bump()
        finally:
            self._depth, self._bump_due = 0, False

    def exclusive(self, key: int) -> contextlib.AbstractContextManager:
        """Hold the lock named `key` while the ``with`` block runs, so that other
        processes doing the same thing on this database wait for it.

        A DuckDB file admits one writing process and a connection runs one
        statement at a time, so only a server store needs a lock (PostgreSQL:
        a session advisory lock).
        """
        return contextlib.nullcontext()

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
        with self.transaction(bump=not set(prepared) <= QUIET_TABLES):
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

    def _bump(self) -> None:
        """Raise this connection's row of ``store_generation`` by one (add the
        row if it is missing), inside the open transaction."""
        slot = self._slot_sql
        sql = (
            f"UPDATE {_GENERATION} SET generation = generation + 1 WHERE slot = {slot}"
        )
        try:
            changed = self._changed_rows(sql)
        except Exception as exc:  # each backend raises its own "not found"
            raise StoreError(
                f"cannot raise the store generation in {self.url} (nothing was "
                f"written): {exc}; if table {_GENERATION!r} is missing, run "
                "`excx init`"
            ) from exc
        if not changed:
            self.raw.execute(f"INSERT INTO {_GENERATION} VALUES ({slot}, 1)")

    @abstractmethod
    def _changed_rows(self, sql: str) -> int:
        """Run the UPDATE `sql`; the number of rows it changed."""

    @abstractmethod
    def _atomic(self) -> contextlib.AbstractContextManager:
        """A database transaction: commit on leaving, roll back on an error."""

    @abstractmethod
    def _write_atomic(self, rows: Mapping[str, pa.Table]) -> None:
        """Append the conformed `rows`, inside the open transaction."""
