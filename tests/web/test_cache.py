"""Dashboard figures are computed once per store state, and again after a write."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pandas as pd
import pyarrow as pa
import pytest

from excx.web.cache import ENTRIES, FigureCache, cached, store_state


def _request() -> SimpleNamespace:
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace()))


def test_a_figure_is_recomputed_only_when_the_store_changes(duckdb_store):
    request, calls = _request(), []

    def figure() -> int:
        calls.append(1)
        return len(calls)

    before = (*store_state(duckdb_store), "figure")
    assert cached(request, before, figure) == cached(request, before, figure) == 1

    units = pa.table({"unit_id": ["u1"], "name": ["U1"], "kind": ["branch"]})
    duckdb_store.write({"units": units})
    after = (*store_state(duckdb_store), "figure")
    assert after != before
    assert cached(request, after, figure) == 2


def test_the_least_recently_used_entry_goes_first():
    request = _request()
    for number in range(ENTRIES + 1):
        if number == ENTRIES:
            cached(request, (0,), lambda: "recomputed")  # 0 used again: kept
        cached(request, (number,), lambda number=number: number)
    kept = request.app.state.dashboard_cache
    assert len(kept) == ENTRIES
    assert (0,) in kept and (1,) not in kept and (ENTRIES,) in kept
    assert cached(request, (0,), lambda: "recomputed") == 0


def test_the_cache_holds_at_most_its_byte_bound():
    cache = FigureCache(entries=100, max_bytes=10_000)
    for number in range(10):
        cache.get_or_compute(number, lambda: b"x" * 3_000)
    assert cache.bytes <= 10_000 and len(cache) == 3
    assert 9 in cache and 6 not in cache
    frame = pd.DataFrame({"a": range(5_000)})  # 40 kB: alone beyond the bound
    assert cache.get_or_compute("frame", lambda: frame) == (frame, True)
    assert len(cache) == 1 and cache.bytes >= 40_000


def test_concurrent_misses_of_one_key_compute_it_once():
    cache, calls, started = FigureCache(), [], threading.Event()

    def slow() -> int:
        calls.append(1)
        started.set()
        time.sleep(0.2)
        return 42

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(cache.get_or_compute, "k", slow)
        started.wait(5)
        others = [pool.submit(cache.get_or_compute, "k", slow) for _ in range(7)]
        answers = [first.result()] + [f.result() for f in others]
    assert len(calls) == 1
    assert answers == [(42, True)] + [(42, False)] * 7


def test_a_failed_computation_is_not_kept():
    cache = FigureCache()

    def fail() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.get_or_compute("k", fail)
    assert "k" not in cache and cache.get_or_compute("k", lambda: 1) == (1, True)
