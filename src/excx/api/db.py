"""The service's side of the store: a pool of connections and small SQL statements.

Metrics, imports and linkage go through the library on a :class:`~excx.store.Store`.
The few statements the service needs beyond that (claim a pulse token, end a
session) are parameterised SQL run on the store's own connection, in one
transaction with the rows they guard.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Mapping

import pyarrow as pa

import excx
from excx import schema
from excx.errors import StoreError
from excx.store import Store

__all__ = ["StorePool", "run", "write_guarded", "arrow_rows", "now"]

log = logging.getLogger("excx")

# Unique indexes that make keys of the service's tables hold under concurrency.
_UNIQUE = {
    "users": "username",
    "sessions": "session_hash",
    "survey_tokens": "token_hash",
    "survey_interactions": "interaction_id",
}


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
        store.init()
        for table, column in _UNIQUE.items():
            run(
                store,
                f'CREATE UNIQUE INDEX IF NOT EXISTS "{table}_{column}_key" '
                f'ON "{table}" ("{column}")',
            )
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
        return cursor.fetchall() if cursor.description else []
    result = store.raw.execute(sql, params)
    return result.fetchall() if result.description else []


def write_guarded(
    store: Store,
    rows: Mapping[str, pa.Table],
    *,
    guard: Callable[[], bool] = lambda: True,
) -> bool:
    """Run `guard`, then append `rows`, in one transaction.

    `guard` runs statements through :func:`run` (e.g. claim a token) and returns
    False to give up: then nothing at all is written. Returns whether the rows
    were committed (and the store's generation raised).
    """
    try:
        with store.transaction():
            if not guard():
                raise _GiveUp
            store.write(rows)
    except _GiveUp:
        return False
    return True


class _GiveUp(Exception):
    """The guard refused: roll the transaction back."""


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
