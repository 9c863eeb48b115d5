"""The unit × period panel the linkage models run on, aggregated in the engine.

Each KPI comes from its one definition in :mod:`excx.metrics.kpis`: the engine
reduces the answers of every unit and period to sufficient statistics, and only
that small table reaches pandas. The panel holds raw, ungated cells because the
models may use small cells internally; whatever is shown per unit must pass
:func:`excx.privacy.gate` (see :func:`displayable`).

>>> import excx
>>> from excx.linkage.panel import panel
>>> store = excx.connect("duckdb://:memory:")
>>> store.init()
>>> panel(store).empty
True
"""

from __future__ import annotations

import logging
import time

import ibis
import numpy as np
import pandas as pd

from excx.errors import InputError
from excx.metrics import intervals
from excx.metrics._rows import PERIODS, add_dimensions, scored_rows
from excx.metrics.compute import estimate, mean_and_sd
from excx.metrics.kpis import KPIS, engagement_score, statistics
from excx.store import Store

__all__ = ["panel", "PANEL_COLUMNS", "displayable"]

log = logging.getLogger("excx")

PANEL_COLUMNS = [
    "unit_id",
    "region",
    "period",
    "enps",
    "enps_n",
    "enps_var",
    "engagement",
    "engagement_n",
    "nps",
    "nps_n",
    "nps_var",
    "csat",
    "ces",
    "quality",
    "human_share",
    "revenue",
    "customers",
    "churned",
    "unit_size",
]


def panel(
    store: Store, *, period: str = "month", quality_items: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """One row per unit and period with employee, customer and outcome figures.

    Parameters
    ----------
    store
        The open store.
    period
        ``month`` or ``quarter`` (``year`` is accepted but leaves few periods).
    quality_items
        ``customer_items.item_id`` values that measure service quality; None takes
        every customer item.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PANEL_COLUMNS`, sorted by unit and period; ``period`` is the
        period's start as a datetime. A unit-period without employee (customer)
        answers has null employee (customer) columns.

    Notes
    -----
    ``enps`` and ``nps`` are on −100..100; ``*_var`` is the sampling variance of
    that figure, ``100² (pP + pD − (pP − pD)²) / n`` (the multinomial variance of
    the share difference, unadjusted). ``engagement`` and ``quality`` are means of
    1–5 items rescaled to 0–100; ``csat`` is percent satisfied; ``ces`` the mean of
    1–7. ``human_share`` is the share of the unit's customer answers served by a
    person; ``unit_size`` the number of employee respondents. Customer answers
    without a serving unit (digital self-service) are left out of the panel.
    """
    if period not in PERIODS:
        raise InputError(f"period={period!r}; accepted: {', '.join(PERIODS)}")

    started = time.perf_counter()
    parts = [
        _employee_cells(store, period),
        _engagement_cells(store, period),
        _customer_cells(store, period),
        _quality_cells(store, period, quality_items),
        _outcome_cells(store, period),
    ]
    parts = [p.assign(period=pd.to_datetime(p["period"])) for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=PANEL_COLUMNS)
    frame = parts[0]
    for part in parts[1:]:
        frame = frame.merge(part, on=["unit_id", "period"], how="outer")

    regions = store.to_pyarrow(store.table("units").select("unit_id", "region"))
    frame = frame.merge(regions.to_pandas(), on="unit_id", how="left")
    frame = frame.reindex(columns=PANEL_COLUMNS)
    frame = frame.sort_values(["unit_id", "period"], ignore_index=True)
    log.info(
        "built the %s panel: %d unit-periods in %.2f s",
        period,
        len(frame),
        time.perf_counter() - started,
    )
    return frame


def displayable(
    store: Store, frame: pd.DataFrame, *, period: str = "month"
) -> pd.DataFrame:
    """The panel with the employee figures of unsafe unit-periods nulled.

    Runs the unit × period eNPS and engagement cells through
    :func:`excx.privacy.gate`, so that a chart or table built from the result
    shows only what the metrics API would show. Adds a bool ``suppressed``
    column (True where the eNPS cell is hidden).
    """
    from excx import privacy
    from excx.metrics._rows import units_frame

    units = units_frame(store)
    shown = frame.copy()
    cells = pd.DataFrame(
        {
            "unit_id": frame["unit_id"],
            "period": frame["period"].dt.strftime("%Y-%m-%d"),
        }
    )
    for name in ("enps", "engagement"):
        counted = cells.assign(n=frame[f"{name}_n"], value=frame[name])
        counted = counted[counted["n"].fillna(0) > 0]
        gated = privacy.gate(
            counted.assign(ci_low=np.nan, ci_high=np.nan),
            by=["unit_id", "period"],
            units=units,
            period=period,
        )
        hidden = pd.Series(False, index=frame.index)
        hidden.loc[gated.index] = gated["suppressed"].to_numpy(dtype=bool)
        extra = [f"{name}_var"] if f"{name}_var" in shown else []
        shown.loc[hidden, [name, *extra]] = np.nan
        if name == "enps":
            shown["suppressed"] = hidden | frame["enps_n"].isna()
    return shown


def _nps_like(cells: pd.DataFrame, name: str) -> pd.DataFrame:
    """Value, n and sampling variance of NPS or eNPS from the engine's counts."""
    definition = KPIS[name]
    value, _, _ = estimate(definition, cells, method="wald")
    _, variance = intervals.nps_variance(
        cells["n"], cells["promoters"], cells["detractors"], adjusted=False
    )
    return pd.DataFrame(
        {
            "unit_id": cells["unit_id"],
            "period": cells["period"],
            name: value,
            f"{name}_n": cells["n"].astype("int64"),
            f"{name}_var": 100**2 * variance,
        }
    )


def _served(rows: ibis.Table) -> ibis.Table:
    """Rows with a serving unit: answers without one stay out of the unit panel."""
    return rows.filter(rows.unit_id.notnull())


def _grouped(rows: ibis.Table, **reductions) -> ibis.Table:
    return rows.group_by(["unit_id", "period"]).aggregate(**reductions)


def _employee_cells(store: Store, period: str) -> pd.DataFrame:
    rows = scored_rows(
        store, KPIS["enps"], needed={"unit_id", "period"}, period=period, rollup=False
    )
    rows = _served(rows)
    cells = store.to_pyarrow(_grouped(rows, **statistics(KPIS["enps"], rows.score)))
    frame = _nps_like(cells.to_pandas(), "enps")
    return frame.assign(unit_size=frame["enps_n"])


def _engagement_cells(store: Store, period: str) -> pd.DataFrame:
    definition = KPIS["engagement"]
    rows = scored_rows(
        store, definition, needed={"unit_id", "period"}, period=period, rollup=False
    )
    rows = _served(rows)
    cells = store.to_pyarrow(_grouped(rows, **statistics(definition, rows.score)))
    cells = cells.to_pandas()
    mean, _ = mean_and_sd(cells)
    return pd.DataFrame(
        {
            "unit_id": cells["unit_id"],
            "period": cells["period"],
            "engagement": mean,
            "engagement_n": cells["n"].astype("int64"),
        }
    )


def _customer_cells(store: Store, period: str) -> pd.DataFrame:
    """NPS, CSAT, CES and the human share in one scan of the customer answers."""
    source = store.table("customer_responses")
    rows = _served(add_dimensions(store, source, needed={"period"}, period=period))
    reductions = {}
    for name in ("nps", "csat", "ces"):
        for stat, reduction in statistics(KPIS[name], rows[name]).items():
            reductions[f"{name}__{stat}"] = reduction
    reductions["answers"] = rows.count()
    reductions["human"] = rows.count(where=rows.served_by == "human")
    cells = store.to_pyarrow(_grouped(rows, **reductions)).to_pandas()

    def stats_of(name: str) -> pd.DataFrame:
        prefix = f"{name}__"
        columns = {c: c.removeprefix(prefix) for c in cells if c.startswith(prefix)}
        return cells[["unit_id", "period", *columns]].rename(columns=columns)

    nps = _nps_like(stats_of("nps"), "nps")
    csat, _, _ = estimate(KPIS["csat"], stats_of("csat"), method="wilson")
    ces, _ = mean_and_sd(stats_of("ces"))
    with np.errstate(divide="ignore", invalid="ignore"):
        human_share = cells["human"] / cells["answers"]
    return nps.assign(csat=csat, ces=ces, human_share=human_share.to_numpy())


def _quality_cells(
    store: Store, period: str, quality_items: tuple[str, ...] | None
) -> pd.DataFrame:
    """Mean service-quality item per unit-period, rescaled to 0–100."""
    items = store.table("customer_items")
    if quality_items is not None:
        items = items.filter(items.item_id.isin(list(quality_items)))
    responses = store.table("customer_responses").select(
        "response_id", "unit_id", "submitted_at"
    )
    rows = items.join(responses, "response_id")
    rows = _served(add_dimensions(store, rows, needed={"period"}, period=period))
    # Service-quality items share the 1–5 scale and 0–100 rescaling of engagement.
    score = engagement_score(rows.value.cast("float64"))
    return store.to_pyarrow(_grouped(rows, quality=score.mean())).to_pandas()


def _outcome_cells(store: Store, period: str) -> pd.DataFrame:
    """Revenue and churn summed over the months of each period; customers averaged."""
    outcomes = store.table("unit_outcomes")
    truncated = outcomes.period.truncate(PERIODS[period]).cast("date")
    rows = _served(outcomes.mutate(period=truncated))
    cells = _grouped(
        rows,
        revenue=rows.revenue.sum(),
        customers=rows.customers.cast("float64").mean(),
        churned=rows.churned.sum(),
    )
    return store.to_pyarrow(cells).to_pandas()
