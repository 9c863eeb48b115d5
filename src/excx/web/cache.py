"""Figures kept per store state, so that reloading a page does not recompute them.

The state is the row count of every table the dashboard reads (as the linkage
route of the API does): an answer, an import, a new unit or a programme record
changes it, and the next request recomputes. Entries live in the app
(``app.state``), at most :data:`ENTRIES` of them, oldest dropped first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from fastapi import Request

from excx.store import Store

__all__ = ["cached", "store_state", "ENTRIES"]

ENTRIES = 128
_INPUTS = ("units", "employee_responses", "employee_items", "customer_responses")
_INPUTS += ("customer_items", "interactions", "surveys")
# The programme is only ever appended to (excx.journey.programme), so counts
# also track it.
_INPUTS += ("initiatives", "activities", "activity_units", "recognitions")
_INPUTS += ("feedback_actions",)
_lock = threading.Lock()
T = TypeVar("T")


def store_state(store: Store) -> tuple:
    """The store's URL and the row counts of the tables the dashboard reads."""
    return (store.url, *(store.count(name) for name in _INPUTS))


def cached(request: Request, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """``compute()``, or its earlier result for the same `key` (which starts with
    :func:`store_state`).

    Callers must not modify what they get back: it is shared between requests.
    """
    with _lock:
        entries = getattr(request.app.state, "dashboard_cache", None)
        if entries is None:
            entries = request.app.state.dashboard_cache = {}
        if key in entries:
            return entries[key]
    value = compute()
    with _lock:
        if len(entries) >= ENTRIES:
            entries.pop(next(iter(entries)))
        entries[key] = value
    return value
