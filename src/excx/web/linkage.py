"""The linkage page's figures: the same estimates as ``GET /api/v1/linkage``.

The estimates come from the API route itself (so from
:func:`excx.linkage.link.link` with the API's default options, sharing its
cache); the scatter and coefficient charts are those of
:mod:`excx.report.linkage`, whose unit points have passed the privacy gate.
"""

from __future__ import annotations

import pandas as pd
from fastapi import Request

from excx.api.routes.linkage import linkage_answer
from excx.report.linkage import (
    PER_POINTS,
    coefficient_chart,
    scatter_chart,
    unit_points,
)
from excx.store import Store

__all__ = ["context", "BOOTSTRAP_DRAWS"]

BOOTSTRAP_DRAWS = 2000  # the API's default, so that both show the same numbers
_CHAIN = ("chain_indirect", "chain_money")


def context(request: Request, store: Store) -> dict:
    """Template values: ``specs`` (scatter, coefficients), ``chain`` and
    ``estimates`` rows, ``readings``, ``units_drawn`` and ``per_points``."""
    options = {"period": "month", "lag": 1, "n_boot": BOOTSTRAP_DRAWS, "seed": 0}
    answer = linkage_answer(request, store, **options, level=0.95)
    estimates = pd.DataFrame.from_records(answer["estimates"])
    units = unit_points(store)
    specs = {}
    if len(units) >= 3:
        specs["scatter"] = scatter_chart(units).to_dict()
    if not estimates.empty:
        specs["coefficients"] = coefficient_chart(estimates).to_dict()
    chosen = estimates["model"].isin(_CHAIN) if len(estimates) else []
    return {
        "specs": specs,
        "chain": _rows(estimates[chosen]) if len(estimates) else [],
        "estimates": _rows(estimates[~chosen]) if len(estimates) else [],
        "readings": answer["readings"],
        "units_drawn": len(units),
        "per_points": PER_POINTS,
    }


def _rows(frame: pd.DataFrame) -> list[dict]:
    return [
        {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]
