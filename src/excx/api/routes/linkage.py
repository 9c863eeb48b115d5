"""``GET /api/v1/linkage``: the estimates of ``excx.linkage.link.link``.

Results are cached per store state (row counts of the tables the panel reads)
and options, so a dashboard reload does not rerun the bootstrap.
"""

from __future__ import annotations

import json
import threading
from typing import Annotated

from fastapi import APIRouter, Query, Request

from excx.api.deps import StoreDep, require
from excx.linkage.link import link

router = APIRouter(tags=["linkage"])

_INPUTS = ("units", "employee_responses", "employee_items", "customer_responses")
_INPUTS += ("unit_outcomes", "imports")
_CACHED = 16
_lock = threading.Lock()


@router.get(
    "/linkage",
    summary="eNPS → NPS → revenue: every linkage model in one table",
    dependencies=[require("admin", "analyst", "viewer")],
)
def linkage(
    request: Request,
    store: StoreDep,
    period: str = "month",
    lag: Annotated[int, Query(ge=1, le=12)] = 1,
    boot: Annotated[int, Query(ge=50, le=5000)] = 2000,
    seed: int = 0,
    level: Annotated[float, Query(gt=0, lt=1)] = 0.95,
) -> dict:
    """``estimates`` rows (model, term, estimate, ci_low, ci_high, p_value, …),
    ``readings`` in words, and whether the answer came from the cache."""
    state = tuple(store.count(name) for name in _INPUTS)
    key = (store.url, state, period, lag, boot, seed, level)
    cache: dict = request.app.state.linkage_cache
    with _lock:
        cached = cache.get(key)
    if cached is not None:
        return cached | {"cached": True}

    report = link(store, period=period, lag=lag, n_boot=boot, seed=seed, level=level)
    answer = {
        "estimates": json.loads(report.estimates.to_json(orient="records")),
        "readings": report.readings(),
    }
    with _lock:
        if len(cache) >= _CACHED:
            cache.pop(next(iter(cache)))
        cache[key] = answer
    return answer | {"cached": False}
