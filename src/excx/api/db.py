"""The service's side of the store: a pool of connections and small SQL statements.

Metrics, imports and linkage go through the library on a :class:`~excx.store.Store`.
The few statements the service needs beyond that (claim a pulse token and store
the answer, end a session) are parameterised SQL run on the store's own
connection, in one :meth:`~excx.store.Store.transaction` with the rows they guard.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import queue
import threading
from collections.abc import Iterator, Mapping, Sequence

import pyarrow as pa

import excx
from excx import schema
from excx.errors import StoreError
from excx.store import Store

__all__ = [
    "GENERATION_CTES",
    "StorePool",
    "prepare",
    "run",
    "insert",
    "arrow_rows",
    "now",
]

log = logging.getLogger("excx")

# Unique indexes that make keys of the service's tables hold under concurrency.
_UNIQUE = {
    "users": "username",
    "sessions": "session_hash",
    "survey_tokens": "token_hash",
    "survey_interactions": "interaction_id",
}
# Key of the advisory lock held while :func:`prepare` runs (any fixed number).
_PREPARE_LOCK = 0x65786378

# PostgreSQL, appended to a WITH whose CTE ``answer`` returns the stored answer: when
# the statement stored one, raise the store's generation (excx.store.Store.generation)
# in the same statement: this connection's slot row, or a new one, as
# Store.transaction does. The dashboard cache then sees it. Used by both survey paths.
GENERATION_CTES = """, raised AS (
    UPDATE store_generation SET generation = generation + 1
    WHERE slot = mod(pg_backend_pid(), 16) AND EXISTS (SELECT 1 FROM answer)
), seeded AS (
    INSERT INTO store_generation (slot, generation)
    SELECT mod(pg_backend_pid(), 16), 1
    WHERE EXISTS (SELECT 1 FROM answer) AND NOT EXISTS (
        SELECT 1 FROM store_generation WHERE slot = mod(pg_backend_pid(), 16)
    )
)"""


class StorePool:
    """Open stores handed to one request at a time.

    Parameters
    ----------
    url
        The store URL.
    size
        Connections for PostgreSQL; a DuckDB file gets exactly one, so that
        requests are serialised on it.
    """

    def __init__(self, url: str, *, size: int = 4) -> None:
        self.url = url
        self.size = 1 if url.startswith("duckdb") else max(1, size)
        self._idle: queue.LifoQueue[Store] = queue.LifoQueue()
        self._opened: list[Store] = []
        self._lock = threading.Lock()

    def open(self) -> None:
        """Open the first connection, create missing tables and unique keys."""
        store = self._new()
        prepare(store)
        self._idle.put(store)

    @contextlib.contextmanager
    def checkout(self) -> Iterator[Store]:
        """A store for the duration of a ``with`` block."""
        store = self._take()
        try:
            yield store
        except BaseException:
            if not _alive(store):
                self._discard(store)
                raise
            self._idle.put(store)
            raise
        self._idle.put(store)

    def close(self) -> None:
        """Close every connection."""
        with self._lock:
            for store in self._opened:
                with contextlib.suppress(Exception):
                    store.close()
            self._opened.clear()

    def _take(self) -> Store:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            grow = len(self._opened) < self.size
        if grow:
            return self._new()
        try:
            return self._idle.get(timeout=30)
        except queue.Empty:
            raise StoreError(
                f"all {self.size} store connections stayed busy for 30 s; raise "
                "EXCX_POOL_SIZE or lighten the load"
            ) from None

    def _discard(self, store: Store) -> None:
        """Forget a connection that no longer answers; the next request opens
        another."""
        log.warning("store connection lost; reopening on the next request")
        with self._lock:
            self._opened.remove(store)
        with contextlib.suppress(Exception):
            store.close()

    def _new(self) -> Store:
        store = excx.connect(self.url)
        with self._lock:
            self._opened.append(store)
        log.info("opened store connection %d of %d", len(self._opened), self.size)
        return store


def prepare(store: Store) -> None:
    """Create the missing tables and the unique keys the service relies on.

    It holds the store's exclusive lock, so that the workers of
    ``excx serve --workers N``, starting together on an empty database, create
    each table once instead of racing on the catalogue.
    """
    with store.exclusive(_PREPARE_LOCK):
        store.init()
        for table, column in _UNIQUE.items():
            run(
                store,
                f'CREATE UNIQUE INDEX IF NOT EXISTS "{table}_{column}_key" '
                f'ON "{table}" ("{column}")',
            )


def _alive(store: Store) -> bool:
    try:
        run(store, "SELECT 1")
    except Exception:
        return False
    return True


def run(store: Store, sql: str, params: tuple = ()) -> list[tuple]:
    """Run one statement with ``?`` placeholders; the rows it returns, if any."""
    if store.backend == "postgres":
        cursor = store.raw.execute(sql.replace("?", "%s"), params)
        # pgresult.nfields, not description: that builds a Column per column.
        return cursor.fetchall() if cursor.pgresult.nfields else []
    result = store.raw.execute(sql, params)
    return result.fetchall() if result.description else []


def insert(store: Store, name: str, rows: Sequence[Mapping[str, object]]) -> None:
    """Append `rows` to canonical table `name` with one parameterised INSERT.

    Each row maps the same column names to values; absent columns stay null.
    The light write of the survey pages: no Arrow table, no Ibis. Run it
    inside :meth:`excx.store.Store.transaction` to make it part of a larger
    change (and raise the store's generation).
    """
    if not rows:
        return
    columns = tuple(rows[0])
    sql = _insert_sql(name, columns, len(rows))
    run(store, sql, tuple(row[column] for row in rows for column in columns))


@functools.lru_cache(maxsize=64)
def _insert_sql(name: str, columns: tuple[str, ...], count: int) -> str:
    unknown = set(columns) - set(schema.table(name).columns)
    if unknown:
        raise StoreError(f"columns {sorted(unknown)} are not in table {name!r}")
    listed = ", ".join(f'"{column}"' for column in columns)
    values = ", ".join(["(" + ", ".join("?" * len(columns)) + ")"] * count)
    return f'INSERT INTO "{name}" ({listed}) VALUES {values}'


def arrow_rows(name: str, columns: Mapping[str, list]) -> pa.Table:
    """Rows of canonical table `name`, in its column order; absent columns null."""
    arrow_schema = schema.table(name).schema.to_pyarrow()
    length = len(next(iter(columns.values()))) if columns else 0
    unknown = set(columns) - set(arrow_schema.names)
    if unknown:
        raise StoreError(f"columns {sorted(unknown)} are not in table {name!r}")
    arrays = [
        pa.array(columns[f.name], type=f.type)
        if f.name in columns
        else pa.nulls(length, f.type)
        for f in arrow_schema
    ]
    return pa.Table.from_arrays(arrays, schema=arrow_schema)


def now() -> dt.datetime:
    """The current UTC time without time zone, as the canonical tables store it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
