"""The report's linkage page: unit scatter, coefficients and the chain in money.

Unit points come from :mod:`excx.metrics` (so employee figures have passed the
privacy gate: a unit whose eNPS is suppressed is not drawn); coefficients come
from :func:`excx.linkage.link.link`. Nothing is estimated here except the
least-squares line drawn through the visible points.

>>> import pandas as pd
>>> units = pd.DataFrame({"unit_id": list("abcd"), "enps": [0.0, 10.0, 20.0, 30.0],
...                       "nps": [5.0, 9.0, 16.0, 19.0], "n": [40, 50, 60, 70]})
>>> fit = fit_band(units)
>>> round(float(fit["fit"].iloc[0]), 2)
4.9
"""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path
from string import Template

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

import excx.metrics
from excx.linkage.link import LinkageReport
from excx.report.page import chart_scripts
from excx.store import Store

__all__ = ["unit_points", "fit_band", "write_linkage_page", "PER_POINTS"]

TEMPLATE = Path(__file__).resolve().parent / "templates" / "linkage.html"

# Effects of eNPS are shown per this many eNPS points, as the readings state them.
PER_POINTS = 10
_COEFFICIENT_MODELS = {
    "fixed_effects": "lagged fixed effects (naive)",
    "fixed_effects_corrected": "lagged fixed effects, corrected for sampling error",
    "fixed_effects_reverse": "reverse: NPS at t−1 → eNPS at t",
    "multilevel": "multilevel (customer level)",
}


def unit_points(store: Store, *, level: float = 0.95) -> pd.DataFrame:
    """Each unit's eNPS and NPS over the whole store, gated units left out.

    Returns
    -------
    pandas.DataFrame
        ``unit_id, enps, nps, n`` (n = customer answers), one row per unit whose
        eNPS passed the privacy gate and that has customer answers.
    """
    enps = excx.metrics.enps(store, by=("unit_id",), level=level)
    nps = excx.metrics.nps(store, by=("unit_id",), level=level)
    shown = enps[~enps["suppressed"] & enps["value"].notna()]
    served = nps[nps["unit_id"].notna() & nps["value"].notna()]
    return (
        shown[["unit_id", "value"]]
        .merge(
            served[["unit_id", "value", "n"]], on="unit_id", suffixes=("_enps", "_nps")
        )
        .rename(columns={"value_enps": "enps", "value_nps": "nps"})
    )


def fit_band(units: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Least-squares line of NPS on eNPS across units with its confidence band.

    Notes
    -----
    Ordinary least squares over the drawn units; the band is the interval of the
    mean NPS at each eNPS, ``ŷ ± t · s · √(1/J + (x − x̄)² / Sxx)`` on J − 2
    degrees of freedom.
    """
    x, y = units["enps"].to_numpy(float), units["nps"].to_numpy(float)
    count = len(x)
    grid = np.linspace(x.min(), x.max(), 50)
    if count < 3 or np.ptp(x) == 0:
        return pd.DataFrame(columns=["enps", "fit", "low", "high"])
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    spread = np.sqrt(residual @ residual / (count - 2))
    sxx = np.sum((x - x.mean()) ** 2)
    half = stats.t.ppf(0.5 + level / 2, count - 2) * spread
    half = half * np.sqrt(1 / count + (grid - x.mean()) ** 2 / sxx)
    fit = intercept + slope * grid
    return pd.DataFrame(
        {"enps": grid, "fit": fit, "low": fit - half, "high": fit + half}
    )


def scatter_chart(units: pd.DataFrame, *, level: float = 0.95) -> alt.LayerChart:
    """Units' eNPS against their NPS, with the fitted line and its band."""
    band = fit_band(units, level=level)
    points = (
        alt.Chart(units)
        .mark_circle(opacity=0.6, color="#1b6ca8")
        .encode(
            x=alt.X("enps:Q", title="unit eNPS", scale=alt.Scale(zero=False)),
            y=alt.Y("nps:Q", title="unit NPS", scale=alt.Scale(zero=False)),
            size=alt.Size("n:Q", title="customer answers", legend=None),
            tooltip=[
                "unit_id:N",
                alt.Tooltip("enps:Q", format=".1f"),
                alt.Tooltip("nps:Q", format=".1f"),
                "n:Q",
            ],
        )
    )
    area = (
        alt.Chart(band)
        .mark_area(opacity=0.2, color="#d1495b")
        .encode(x="enps:Q", y="low:Q", y2="high:Q")
    )
    line = alt.Chart(band).mark_line(color="#d1495b").encode(x="enps:Q", y="fit:Q")
    title = alt.Title("Units: eNPS and NPS", subtitle=f"line with {level:.0%} band")
    return alt.layer(area, points, line, title=title).properties(width=420, height=320)


def coefficient_chart(estimates: pd.DataFrame) -> alt.LayerChart:
    """The eNPS ↔ NPS coefficients, per 10 points, with their intervals."""
    rows = estimates[
        estimates["model"].isin(list(_COEFFICIENT_MODELS))
        & (estimates["term"] != "Intercept")
        & estimates["estimate"].notna()
    ]
    rows = rows.assign(
        label=rows["model"].map(_COEFFICIENT_MODELS) + " · " + rows["term"],
        estimate=rows["estimate"] * PER_POINTS,
        ci_low=rows["ci_low"] * PER_POINTS,
        ci_high=rows["ci_high"] * PER_POINTS,
    )[["label", "estimate", "ci_low", "ci_high"]]
    base = alt.Chart(rows).encode(y=alt.Y("label:N", title=None, sort=None))
    whiskers = base.mark_rule(color="#333").encode(
        x=alt.X("ci_low:Q", title=f"points per {PER_POINTS} points of the driver"),
        x2="ci_high:Q",
    )
    dots = base.mark_point(filled=True, size=70, color="#1b6ca8").encode(
        x="estimate:Q",
        tooltip=[
            "label:N",
            alt.Tooltip("estimate:Q", format=".2f"),
            alt.Tooltip("ci_low:Q", format=".2f"),
            alt.Tooltip("ci_high:Q", format=".2f"),
        ],
    )
    zero = (
        alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    )
    return alt.layer(zero, whiskers, dots).properties(width=420, height=180)


def write_linkage_page(
    store: Store, report: LinkageReport, out: str | Path, *, level: float = 0.95
) -> Path:
    """Write ``out/linkage.html`` (the Vega scripts are those of the main page)."""
    units = unit_points(store, level=level)
    specs = {}
    if len(units) >= 3:
        specs["scatter"] = scatter_chart(units, level=level).to_dict()
    if not report.estimates.empty:
        specs["coefficients"] = coefficient_chart(report.estimates).to_dict()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = Path(out) / "linkage.html"
    page.write_text(
        Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
            meta=escape(f"Generated {now} from a {store.backend} store"),
            units_drawn=len(units),
            chain_table=_chain_table(report.estimates),
            estimates_table=_estimates_table(report.estimates),
            readings="".join(f"<li>{escape(text)}</li>" for text in report.readings()),
            charts=chart_scripts(specs),
        ),
        encoding="utf-8",
    )
    return page


def _number(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:,.3g}"


def _chain_table(estimates: pd.DataFrame) -> str:
    chain = estimates[estimates["model"].isin(["chain_indirect", "chain_money"])]
    if chain.empty:
        return "<p>No chain estimate.</p>"
    return _table(chain, caption="Service-profit chain (associational)")


def _estimates_table(estimates: pd.DataFrame) -> str:
    if estimates.empty:
        return "<p>No estimates: the store has no unit × period panel yet.</p>"
    return _table(estimates, caption="Every estimate")


def _table(rows: pd.DataFrame, *, caption: str) -> str:
    header = "".join(
        f"<th>{c}</th>"
        for c in ("model", "term", "estimate", "interval", "p", "units", "note")
    )
    body = []
    for row in rows.itertuples(index=False):
        interval = f"{_number(row.ci_low)} to {_number(row.ci_high)}"
        body.append(
            f"<tr><td>{escape(row.model)}</td><td>{escape(str(row.term))}</td>"
            f"<td>{_number(row.estimate)}</td><td>{escape(interval)}</td>"
            f"<td>{_number(row.p_value)}</td><td>{_number(row.n_units)}</td>"
            f"<td>{escape(row.reason or '')}</td></tr>"
        )
    return (
        f'<table class="estimates"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )
