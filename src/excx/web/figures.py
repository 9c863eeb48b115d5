"""What each dashboard page shows, computed with the library's own calls.

Every KPI comes from :func:`excx.metrics.compute` (employee KPIs privacy-gated
there), every chart from :mod:`excx.report.charts` or :mod:`excx.report.linkage`;
employee comments are listed only for groups :func:`excx.privacy.gate_comments`
lets through. The engine does the scans; only aggregated rows and at most
:data:`COMMENT_LIMIT` comments come back.
"""

from __future__ import annotations

import datetime as dt
import warnings

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ibis import _

import excx.metrics
from excx import privacy
from excx.errors import ExcxWarning
from excx.metrics._rows import add_dimensions, units_frame
from excx.report.charts import channel_chart, trend_chart
from excx.report.data import KPIS
from excx.store import Store
from excx.web.filters import Filters

__all__ = [
    "KPIS",
    "COMMENT_LIMIT",
    "date_range",
    "kpi_tiles",
    "trend_specs",
    "heatmap",
    "channels",
    "channel_spec",
    "employee_comments",
    "customer_comments",
    "records",
]

COMMENT_LIMIT = 100


def _compute(store: Store, kpi: str, **options) -> pd.DataFrame:
    """``excx.metrics.compute`` with its statistical warnings kept for the page."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExcxWarning)
        frame = excx.metrics.compute(store, kpi, **options)
    frame.attrs["caveats"] = sorted({str(w.message) for w in caught})
    return frame


def date_range(store: Store) -> tuple[dt.date | None, dt.date | None]:
    """First and last answer day over employee and customer responses."""
    bounds = []
    for name in ("employee_responses", "customer_responses"):
        table = store.table(name)
        row = store.execute(
            table.aggregate(
                first=table.submitted_at.min(), last=table.submitted_at.max()
            )
        ).iloc[0]
        bounds.extend(pd.Timestamp(v).date() for v in row if pd.notna(v))
    return (min(bounds), max(bounds)) if bounds else (None, None)


def kpi_tiles(store: Store, filters: Filters, *, unit: str | None) -> list[dict]:
    """One tile per KPI over the selection: label, scale, n, value, interval,
    suppressed (a frame row as a dict; value None when nothing to show)."""
    tiles = []
    for kpi, (label, scale) in KPIS.items():
        audience = excx.metrics.KPIS[kpi].audience
        frame = _compute(
            store, kpi, period=filters.grain, **filters.metric_call(audience, unit=unit)
        )
        row = frame.iloc[0].to_dict() if len(frame) else {"n": 0, "suppressed": False}
        tile = {"kpi": kpi, "label": label, "scale": scale, "audience": audience}
        tile |= {k: (None if pd.isna(v) else v) for k, v in row.items()}
        tile["alpha"] = frame.attrs.get("cronbach_alpha")
        tiles.append(tile)
    return tiles


def trend_specs(store: Store, filters: Filters, *, unit: str | None) -> dict:
    """Vega-Lite specs (dicts) of each KPI's trend by period over the selection."""
    specs = {}
    whole_series = Filters(**{**vars(filters), "period": None})
    for kpi in KPIS:
        audience = excx.metrics.KPIS[kpi].audience
        call = whole_series.metric_call(audience, unit=unit)
        call["by"] = (*call["by"], "period")
        frame = _compute(store, kpi, period=filters.grain, **call)
        if frame["value"].notna().any():
            specs[kpi] = trend_chart(frame, kpi, width=300).to_dict()
    return specs


def heatmap(
    store: Store, kpi: str, filters: Filters, *, units: list[str]
) -> pd.DataFrame:
    """`kpi` per unit (over its subtree) and period, for the listed `units`.

    Returns
    -------
    pandas.DataFrame
        The frame of ``excx.metrics.compute(by=("unit_id", "period"),
        rollup=True)`` restricted to `units` (and the period filter): suppressed
        cells are rows with ``suppressed`` True, never dropped.
    """
    where: dict = {"unit_id": units}
    if filters.period is not None:
        where["period"] = [filters.period]
    if excx.metrics.KPIS[kpi].audience == "customer" and filters.channel:
        where["channel"] = [filters.channel]
    return _compute(
        store,
        kpi,
        by=("unit_id", "period"),
        period=filters.grain,
        rollup=True,
        where=where,
    )


def channels(store: Store, filters: Filters, *, units: list[str] | None) -> dict:
    """NPS, CSAT and CES per channel × served_by over the selection (customer
    answers only, so the filters may restrict the answers counted)."""
    where: dict = {}
    if units is not None:
        where["unit_id"] = units
    if filters.period is not None:
        where["period"] = [filters.period]
    if filters.channel is not None:
        where["channel"] = [filters.channel]
    return {
        kpi: _compute(
            store, kpi, by=("channel", "served_by"), period=filters.grain, where=where
        ).sort_values(["channel", "served_by"], ignore_index=True)
        for kpi in ("nps", "csat", "ces")
    }


def channel_spec(nps: pd.DataFrame) -> dict | None:
    """The NPS by channel and kind of service chart, None without figures."""
    drawn = nps[nps["value"].notna()]
    return channel_chart(drawn).to_dict() if len(drawn) else None


def employee_comments(
    store: Store, filters: Filters, *, units: list[str], rule=None
) -> tuple[pd.DataFrame, int]:
    """Employee comments of the unit × period groups that may be listed.

    Every unit × period group of the store is passed through
    :func:`excx.privacy.gate_comments` (so that sibling sets are complete);
    comments are then read only for listed groups among `units` (and the
    period filter). Returns ``unit_id, period, comment`` rows (no day, role or
    tenure) and the number of groups with comments that stay hidden.
    """
    rule = rule or privacy.PrivacyRule()
    rows = add_dimensions(
        store,
        store.table("employee_responses"),
        needed=("unit_id", "period"),
        period=filters.grain,
    )
    cells = _string_periods(
        store.to_pyarrow(
            rows.group_by(["unit_id", "period"]).aggregate(
                n=_.count(), comments=_.comment.notnull().sum()
            )
        )
    )
    gated = privacy.gate_comments(
        cells,
        by=["unit_id", "period"],
        units=units_frame(store),
        period=filters.grain,
        rule=rule,
    )
    chosen = gated["unit_id"].isin(units) & (gated["comments"] > 0)
    if filters.period is not None:
        chosen &= gated["period"] == filters.period
    listed = gated.loc[chosen & ~gated["suppressed"], ["unit_id", "period"]]
    hidden = int((chosen & gated["suppressed"]).sum())
    if listed.empty:
        return pd.DataFrame(columns=["unit_id", "period", "comment"]), hidden

    groups = ibis.memtable(
        listed.assign(period=pd.to_datetime(listed["period"]).dt.date)
    )
    found = rows.filter(rows.comment.notnull()).semi_join(groups, ["unit_id", "period"])
    # Sorted by text, not time, so that the order does not hint at who wrote what.
    found = found.select("unit_id", "period", "comment").order_by(
        [ibis.desc("period"), "unit_id", "comment"]
    )
    return _string_periods(store.to_pyarrow(found.limit(COMMENT_LIMIT))), hidden


def customer_comments(
    store: Store, filters: Filters, *, units: list[str] | None
) -> pd.DataFrame:
    """The latest customer comments over the selection (at most
    :data:`COMMENT_LIMIT`), with day, channel, served_by, unit and scores."""
    rows = add_dimensions(
        store,
        store.table("customer_responses"),
        needed=("period",),
        period=filters.grain,
    )
    rows = rows.filter(rows.comment.notnull())
    if units is not None:
        rows = rows.filter(rows.unit_id.isin(units))
    if filters.period is not None:
        rows = rows.filter(rows.period == dt.date.fromisoformat(filters.period))
    if filters.channel is not None:
        rows = rows.filter(rows.channel == filters.channel)
    latest = rows.order_by(ibis.desc("submitted_at")).limit(COMMENT_LIMIT)
    latest = latest.select(
        day=latest.submitted_at.cast("date").cast("string"),
        channel=latest.channel,
        served_by=latest.served_by,
        unit_id=latest.unit_id,
        nps=latest.nps,
        comment=latest.comment,
    )
    return store.to_pyarrow(latest).to_pandas()


def _string_periods(table: pa.Table) -> pd.DataFrame:
    index = table.schema.get_field_index("period")
    table = table.set_column(
        index, "period", pc.cast(table.column("period"), pa.string())
    )
    return table.to_pandas()


def records(frame: pd.DataFrame) -> list[dict]:
    """A frame's rows as dicts for a template, missing values as None."""
    return [
        {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]
