"""The heatmap grid: suppressed cells stay in place and carry no figure."""

from __future__ import annotations

import pandas as pd

from excx.web.colours import colour, grid


def test_colour_runs_from_red_through_grey_to_blue_and_clips():
    scale = (-100.0, 100.0)
    assert colour(-100.0, scale) == "rgb(209, 73, 91)"
    assert colour(0.0, scale) == "rgb(247, 247, 247)"
    assert colour(100.0, scale) == colour(250.0, scale) == "rgb(27, 108, 168)"


def test_grid_marks_suppressed_cells_and_keeps_the_unit_order():
    frame = pd.DataFrame(
        {
            "unit_id": ["b", "b", "a", "a", "c"],
            "period": ["2026-01-01", "2026-02-01", "2026-01-01", "2026-02-01", None],
            "n": [40, 3, 12, 20, 0],
            "value": [10.0, None, 50.0, -20.0, None],
            "suppressed": [False, True, False, False, False],
        }
    )
    cells = grid(frame, units=["a", "b", "d"], kpi="enps")
    assert cells["periods"] == ["2026-01-01", "2026-02-01"]
    assert [row["unit_id"] for row in cells["rows"]] == ["a", "b"]
    hidden = cells["rows"][1]["cells"][1]
    assert hidden == {"state": "suppressed", "value": None, "n": None}
    shown = cells["rows"][0]["cells"][0]
    assert shown["state"] == "shown" and shown["n"] == 12
    assert shown["style"] == f"background: {colour(50.0, (-100.0, 100.0))}"
