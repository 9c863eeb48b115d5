"""The figures a report shows, all taken from :mod:`excx.metrics`."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import ibis
import pandas as pd

from excx import metrics
from excx.errors import ExcxWarning
from excx.store import Store

__all__ = ["KPIS", "ReportData", "collect", "kpi_summary"]

log = logging.getLogger("excx")

# KPI -> (label, what the number is). The definitions live in excx.metrics.
KPIS: dict[str, tuple[str, str]] = {
    "nps": ("NPS", "customers, -100 to 100"),
    "enps": ("eNPS", "employees, -100 to 100"),
    "csat": ("CSAT", "customers, % answering 4-5"),
    "ces": ("CES", "customers, mean effort 1-7, higher = easier"),
    "engagement": ("Engagement", "employees, index 0-100"),
}


@dataclass(frozen=True)
class ReportData:
    """Metric frames for one report, each as :func:`excx.metrics.compute` returns it.

    Attributes
    ----------
    summary
        One row per KPI over everything in the store.
    trends
        One row per KPI and month (``period``).
    channels
        NPS per ``channel`` and ``served_by``.
    units
        Every KPI per ``unit_id`` in the latest month, with the unit's ``name``,
        ``kind`` and ``region`` from the units table.
    latest_period
        ISO date of the latest month with answers, or None for an empty store.
    cronbach_alpha
        Of the engagement items, None when unknown.
    level
        Confidence level of every interval.
    caveats
        Messages of the statistical warnings raised while computing.
    """

    summary: pd.DataFrame
    trends: pd.DataFrame
    channels: pd.DataFrame
    units: pd.DataFrame
    latest_period: str | None
    cronbach_alpha: float | None
    level: float
    caveats: list[str] = field(default_factory=list)


def kpi_summary(store: Store, *, level: float = 0.95) -> pd.DataFrame:
    """Every KPI over the whole store: one row each, ``kpi, n, value, ci_low, ci_high,
    suppressed``, plus ``label`` and ``scale``.

    The engagement row's Cronbach's alpha is in ``.attrs["cronbach_alpha"]``.

    Examples
    --------
    >>> import excx
    >>> store = excx.connect("duckdb://:memory:"); store.init()
    >>> kpi_summary(store)[["kpi", "n"]].values.tolist()[:2]
    [['nps', 0], ['enps', 0]]
    """
    frames = {kpi: metrics.compute(store, kpi, level=level) for kpi in KPIS}
    summary = _concat(frames.values(), first=())
    summary["label"] = summary["kpi"].map(lambda kpi: KPIS[kpi][0])
    summary["scale"] = summary["kpi"].map(lambda kpi: KPIS[kpi][1])
    summary.attrs["cronbach_alpha"] = frames["engagement"].attrs.get("cronbach_alpha")
    return summary


def collect(store: Store, *, level: float = 0.95) -> ReportData:
    """Compute every figure of the report from the store.

    Statistical warnings (:class:`excx.errors.ExcxWarning`) are caught, logged and
    kept in :attr:`ReportData.caveats`, so the report can show them.

    Examples
    --------
    >>> import excx
    >>> store = excx.connect("duckdb://:memory:"); store.init()
    >>> collect(store).latest_period is None
    True
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExcxWarning)
        summary = kpi_summary(store, level=level)
        trends = _concat(
            (metrics.compute(store, kpi, by=("period",), level=level) for kpi in KPIS),
            first=("period",),
        )
        channels = metrics.compute(
            store, "nps", by=("channel", "served_by"), level=level
        )
        latest = None if trends.empty else str(trends["period"].max())
        units = _units(store, latest, level) if latest else pd.DataFrame()
    caveats = sorted(
        {str(w.message) for w in caught if issubclass(w.category, ExcxWarning)}
    )
    for caveat in caveats:
        log.warning("report: %s", caveat)
    alpha = summary.attrs.get("cronbach_alpha")
    return ReportData(
        summary=summary,
        trends=trends,
        channels=channels,
        units=units,
        latest_period=latest,
        cronbach_alpha=None if alpha is None or pd.isna(alpha) else float(alpha),
        level=level,
        caveats=caveats,
    )


def _concat(frames, *, first: tuple[str, ...]) -> pd.DataFrame:
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=[*first, *metrics.OUTPUT_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def _units(store: Store, period: str, level: float) -> pd.DataFrame:
    """Every KPI per unit in `period`, joined to the unit's name, kind and region.

    A unit with several versions is described by its newest (latest valid_from).
    """
    frames = _concat(
        (
            metrics.compute(
                store,
                kpi,
                by=("unit_id", "period"),
                where={"period": [period]},
                level=level,
            )
            for kpi in KPIS
        ),
        first=("unit_id", "period"),
    )
    units = store.table("units")
    newest_first = ibis.row_number().over(
        group_by=units.unit_id, order_by=ibis.desc(units.valid_from)
    )
    latest_version = (
        units.mutate(version=newest_first)
        .filter(lambda t: t.version == 0)
        .select("unit_id", "name", "kind", "region")
    )
    described = store.execute(latest_version)
    return frames.merge(described, on="unit_id", how="left")
