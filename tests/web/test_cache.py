"""Dashboard figures are computed once per store state, and again after a write."""

from __future__ import annotations

from types import SimpleNamespace

import pyarrow as pa

from excx.web.cache import ENTRIES, cached, store_state


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


def test_the_oldest_entry_goes_first():
    request = _request()
    for number in range(ENTRIES + 1):
        cached(request, (number,), lambda number=number: number)
    kept = request.app.state.dashboard_cache
    assert len(kept) == ENTRIES and (0,) not in kept and (ENTRIES,) in kept
