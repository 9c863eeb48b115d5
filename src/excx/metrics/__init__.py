"""The KPIs: NPS and eNPS, CSAT, CES and the engagement index, with intervals.

Each KPI is defined once (:mod:`excx.metrics.kpis`) as engine reductions; the
engine aggregates the answers per group and only the per-group statistics come
back to Python, where :mod:`excx.metrics.intervals` adds the confidence limits.
Employee KPIs pass the privacy gate before they are returned.

>>> import excx, excx.metrics
>>> store = excx.connect("duckdb://:memory:")
>>> store.init()
>>> excx.metrics.csat(store, by=("channel",)).empty
True
"""

from __future__ import annotations

from excx.metrics.compare import compare
from excx.metrics.compute import (
    OUTPUT_COLUMNS,
    ces,
    compute,
    csat,
    engagement,
    enps,
    nps,
)
from excx.metrics.kpis import KPIS
from excx.metrics.reliability import cronbach_alpha

__all__ = [
    "compute",
    "nps",
    "enps",
    "csat",
    "ces",
    "engagement",
    "compare",
    "cronbach_alpha",
    "KPIS",
    "OUTPUT_COLUMNS",
]
