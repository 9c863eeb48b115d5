"""Figures and API answers kept per store state, so that a reload does not
recompute them.

The state is the store's URL and its generation (:meth:`excx.store.Store.generation`),
one read of a tiny table that every committed write raises, in whichever
process it ran. It is read before a figure is computed, so a figure is never
filed under a state older than the data it saw: after a committed write the next
request finds a new state and recomputes.

Entries live in the app (``app.state.dashboard_cache``), least recently used
dropped first beyond :data:`ENTRIES` entries or about :data:`MAX_BYTES` bytes.
Requests that miss the same key at the same time compute it once: the others
wait for that result. Callers put everything that selects the answer into the
key (filters, options, the caller's unit scope); access checks and the privacy
refusals run before the lookup, on every request.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

import pandas as pd

from excx.store import Store

__all__ = ["cached", "store_state", "cache_header", "FigureCache", "ENTRIES"]

ENTRIES = 256
MAX_BYTES = 256 * 2**20
CACHE_HEADER = "X-Excx-Cache"
_created = threading.Lock()
T = TypeVar("T")


def store_state(store: Store) -> tuple:
    """The store's URL and generation: what every cache key starts with."""
    return (store.url, store.generation())


class FigureCache:
    """A thread-safe LRU map bounded by entry count and by estimated bytes."""

    def __init__(self, entries: int = ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self._values: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._flights: dict[Hashable, threading.Lock] = {}

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values

    @property
    def bytes(self) -> int:
        """Estimated size of the values held."""
        return self._bytes

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> tuple[T, bool]:
        """The value for `key` and whether this call computed it.

        Concurrent misses of one key wait for a single ``compute()``; if it
        raises, nothing is stored and each waiting call computes in turn.
        """
        with self._lock:
            if key in self._values:
                return self._hit(key), False
            flight = self._flights.setdefault(key, threading.Lock())
        try:
            with flight:
                with self._lock:
                    if key in self._values:
                        return self._hit(key), False
                value = compute()
                self._put(key, value)
                return value, True
        finally:
            with self._lock:
                self._flights.pop(key, None)

    def _hit(self, key: Hashable):
        self._values.move_to_end(key)
        return self._values[key][0]

    def _put(self, key: Hashable, value) -> None:
        size = _size(value)
        with self._lock:
            if key in self._values:
                self._bytes -= self._values.pop(key)[1]
            self._values[key] = (value, size)
            self._bytes += size
            while len(self._values) > 1 and (
                len(self._values) > self.entries or self._bytes > self.max_bytes
            ):
                self._bytes -= self._values.popitem(last=False)[1][1]


def cached(request, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """``compute()``, or its earlier result for the same `key` (which starts with
    :func:`store_state`).

    Callers must not modify what they get back: it is shared between requests.
    Whether it was computed is counted on ``request.state`` for
    :func:`cache_header`.
    """
    value, computed = _cache_of(request.app).get_or_compute(key, compute)
    state = getattr(request, "state", None)
    if state is not None:
        name = "cache_computed" if computed else "cache_hits"
        setattr(state, name, getattr(state, name, 0) + 1)
    return value


def cache_header(request) -> dict[str, str]:
    """``X-Excx-Cache: computed`` if any figure of the request was computed,
    ``hit`` if all came from the cache; no header if none was cached."""
    if getattr(request.state, "cache_computed", 0):
        return {CACHE_HEADER: "computed"}
    if getattr(request.state, "cache_hits", 0):
        return {CACHE_HEADER: "hit"}
    return {}


def _cache_of(app) -> FigureCache:
    with _created:
        cache = getattr(app.state, "dashboard_cache", None)
        if cache is None:
            cache = app.state.dashboard_cache = FigureCache()
        return cache


def _size(value, depth: int = 0) -> int:
    """Approximate bytes held by `value` (containers followed four levels)."""
    if isinstance(value, (bytes, str)):
        return sys.getsizeof(value)
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return int(pd.Series(value.memory_usage(deep=True)).sum())
    if depth < 4 and isinstance(value, dict):
        items = [x for pair in value.items() for x in pair]
        return sys.getsizeof(value) + sum(_size(x, depth + 1) for x in items)
    if depth < 4 and isinstance(value, (list, tuple)):
        return sys.getsizeof(value) + sum(_size(x, depth + 1) for x in value)
    return sys.getsizeof(value)
