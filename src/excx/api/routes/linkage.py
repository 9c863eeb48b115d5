"""``GET /api/v1/linkage``: the estimates of ``excx.linkage.link.link``.

Results are cached per store generation and options (:mod:`excx.web.cache`), so a
dashboard reload does not rerun the bootstrap.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from excx.api.deps import StoreDep, require
from excx.linkage.link import link
from excx.store import Store
from excx.web.cache import cache_header, cached, store_state

router = APIRouter(tags=["linkage"])


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
    options = {"period": period, "lag": lag, "n_boot": boot, "seed": seed}
    answer = linkage_answer(request, store, **options, level=level)
    return JSONResponse(answer, headers=cache_header(request))


def linkage_answer(request: Request, store: Store, **options) -> dict:
    """The answer of ``GET /api/v1/linkage`` for :func:`~excx.linkage.link.link`
    `options`, from the cache when it holds it."""
    key = (*store_state(store), "api.linkage", *sorted(options.items()))
    computed = []

    def answer() -> dict:
        computed.append(True)
        report = link(store, **options)
        return {
            "estimates": json.loads(report.estimates.to_json(orient="records")),
            "readings": report.readings(),
        }

    return cached(request, key, answer) | {"cached": not computed}
