"""Altair (Vega-Lite 6) charts of metric frames; they draw, never compute.

>>> import pandas as pd
>>> frame = pd.DataFrame({"period": ["2025-01-01", "2025-02-01"], "kpi": "nps",
...     "n": [90, 80], "value": [5.0, 7.0], "ci_low": [-5.0, -4.0],
...     "ci_high": [15.0, 18.0], "suppressed": False})
>>> trend_chart(frame, "nps").to_dict()["layer"][0]["mark"]["type"]
'area'
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from excx.report.data import KPIS
from excx.schema import CHANNELS

__all__ = ["trend_chart", "channel_chart"]

SERVED_BY_COLOURS = {"human": "#1b6ca8", "bot": "#d1495b", "self_service": "#edae49"}


def _interval_title(level: float) -> str:
    return f"{level:.0%} interval"


def trend_chart(
    trends: pd.DataFrame, kpi: str, *, level: float = 0.95, width: int = 360
) -> alt.LayerChart:
    """Monthly line of one KPI over its confidence band.

    Parameters
    ----------
    trends
        Rows of :func:`excx.metrics.compute` with ``by=("period",)``; rows of other
        KPIs are ignored. Suppressed months (null value) leave gaps.
    kpi
        Which KPI to draw.
    level
        The confidence level of the interval columns (for the tooltip).
    width
        Chart width in pixels.
    """
    label, scale = KPIS[kpi]
    rows = trends.loc[
        trends["kpi"] == kpi, ["period", "n", "value", "ci_low", "ci_high"]
    ]
    base = alt.Chart(rows, title=alt.Title(label, subtitle=scale)).encode(
        x=alt.X("period:T", title=None, axis=alt.Axis(format="%b %Y"))
    )
    band = base.mark_area(opacity=0.2, color="#1b6ca8").encode(
        y=alt.Y("ci_low:Q", title=label, scale=alt.Scale(zero=False)),
        y2="ci_high:Q",
    )
    line = base.mark_line(point=True, color="#1b6ca8").encode(
        y="value:Q",
        tooltip=[
            alt.Tooltip("period:T", format="%B %Y"),
            alt.Tooltip("value:Q", format=".1f", title=label),
            alt.Tooltip(
                "ci_low:Q", format=".1f", title=f"{_interval_title(level)} from"
            ),
            alt.Tooltip("ci_high:Q", format=".1f", title="to"),
            alt.Tooltip("n:Q", title="answers"),
        ],
    )
    return alt.layer(band, line).properties(width=width, height=180)


def channel_chart(
    channels: pd.DataFrame, *, level: float = 0.95, width: int = 520
) -> alt.LayerChart:
    """NPS per channel, one bar per kind of service, with interval whiskers.

    Parameters
    ----------
    channels
        Rows of :func:`excx.metrics.compute` for ``nps`` with ``by=("channel",
        "served_by")``.
    level
        The confidence level of the interval columns (for the tooltip).
    width
        Chart width in pixels.
    """
    rows = channels[["channel", "served_by", "n", "value", "ci_low", "ci_high"]]
    colour = alt.Color(
        "served_by:N",
        title="served by",
        scale=alt.Scale(
            domain=list(SERVED_BY_COLOURS), range=list(SERVED_BY_COLOURS.values())
        ),
    )
    base = alt.Chart(
        rows, title=alt.Title("NPS by channel and kind of service")
    ).encode(
        x=alt.X("channel:N", title=None, sort=list(CHANNELS)),
        xOffset=alt.XOffset("served_by:N", sort=list(SERVED_BY_COLOURS)),
    )
    bars = base.mark_bar().encode(
        y=alt.Y("value:Q", title="NPS"),
        color=colour,
        tooltip=[
            "channel:N",
            alt.Tooltip("served_by:N", title="served by"),
            alt.Tooltip("value:Q", format=".1f", title="NPS"),
            alt.Tooltip(
                "ci_low:Q", format=".1f", title=f"{_interval_title(level)} from"
            ),
            alt.Tooltip("ci_high:Q", format=".1f", title="to"),
            alt.Tooltip("n:Q", title="answers"),
        ],
    )
    whiskers = base.mark_rule(color="#333").encode(y="ci_low:Q", y2="ci_high:Q")
    return alt.layer(bars, whiskers).properties(width=width, height=240)
