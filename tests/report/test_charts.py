"""Chart specs (src/excx/report/charts.py): they carry the frame's numbers as given."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from excx.report import channel_chart, trend_chart


def _rows(spec: dict) -> list[dict]:
    return spec["datasets"][spec["data"]["name"]]


def test_trend_chart_draws_line_over_band_and_leaves_gaps_for_suppressed_months():
    frame = pd.DataFrame(
        {
            "period": ["2025-01-01", "2025-02-01", "2025-03-01"],
            "kpi": "enps",
            "n": [12, 3, 14],
            "value": [10.0, None, 20.0],
            "ci_low": [-20.0, None, -5.0],
            "ci_high": [38.0, None, 42.0],
            "suppressed": [False, True, False],
        }
    )
    other_kpi = frame.assign(kpi="nps", value=99.0)

    spec = trend_chart(pd.concat([frame, other_kpi]), "enps").to_dict()

    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["area", "line"]
    band = spec["layer"][0]["encoding"]
    assert (band["y"]["field"], band["y2"]["field"]) == ("ci_low", "ci_high")
    rows = _rows(spec)
    assert [r["value"] for r in rows][::2] == [10.0, 20.0]
    assert rows[1]["value"] is None or math.isnan(rows[1]["value"])
    alt.LayerChart.from_dict(spec, validate=True)


def test_channel_chart_has_one_bar_per_channel_and_service_with_whiskers():
    frame = pd.DataFrame(
        {
            "channel": ["store", "chatbot", "chatbot"],
            "served_by": ["human", "bot", "human"],
            "kpi": "nps",
            "n": [500, 300, 40],
            "value": [12.0, -18.0, 5.0],
            "ci_low": [8.0, -24.0, -20.0],
            "ci_high": [16.0, -12.0, 30.0],
            "suppressed": False,
        }
    )

    spec = channel_chart(frame).to_dict()

    bars, whiskers = spec["layer"]
    assert bars["mark"]["type"] == "bar" and whiskers["mark"]["type"] == "rule"
    assert bars["encoding"]["xOffset"]["field"] == "served_by"
    assert [r["value"] for r in _rows(spec)] == [12.0, -18.0, 5.0]
    alt.LayerChart.from_dict(spec, validate=True)
