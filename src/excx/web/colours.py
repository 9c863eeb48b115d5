"""The unit heatmap as a grid of cells, coloured on the KPI's own scale.

The grid is an HTML table rather than a chart so that a suppressed cell is a
visible, labelled cell of its own (and can be read by a screen reader).

>>> colour(0.0, (-100.0, 100.0))
'rgb(247, 247, 247)'
"""

from __future__ import annotations

import pandas as pd

import excx.metrics

__all__ = ["grid", "colour"]

# Diverging palette: low end, middle, high end (red, light grey, blue).
_LOW, _MIDDLE, _HIGH = (209, 73, 91), (247, 247, 247), (27, 108, 168)


def colour(value: float, scale: tuple[float, float]) -> str:
    """CSS colour of `value` on `scale`: red at the bottom, blue at the top."""
    low, high = scale
    share = min(max((value - low) / (high - low), 0.0), 1.0)
    if share < 0.5:
        start, end, t = _LOW, _MIDDLE, share * 2
    else:
        start, end, t = _MIDDLE, _HIGH, share * 2 - 1
    mixed = (round(a + (b - a) * t) for a, b in zip(start, end, strict=True))
    return "rgb({}, {}, {})".format(*mixed)


def grid(frame: pd.DataFrame, *, units: list[str], kpi: str) -> dict:
    """Rows of cells from a ``compute(by=("unit_id", "period"))`` frame.

    Returns
    -------
    dict
        ``periods`` (ISO start dates, oldest first) and ``rows``: one per unit
        of `units` (in that order) having any cell, each ``{"unit_id", "cells"}``
        with one cell per period: ``{"state": "shown" | "suppressed" | "empty",
        "value", "n", "style"}``.
    """
    scale = excx.metrics.KPIS[kpi].scale
    periods = sorted(frame["period"].dropna().unique().tolist())
    cells = {(r.unit_id, r.period): r for r in frame.itertuples(index=False)}
    rows = []
    for unit_id in units:
        row = []
        for period in periods:
            cell = cells.get((unit_id, period))
            if cell is None:
                row.append({"state": "empty", "value": None, "n": None, "style": ""})
            elif cell.suppressed:
                row.append({"state": "suppressed", "value": None, "n": None})
            elif pd.isna(cell.value):
                row.append({"state": "empty", "value": None, "n": cell.n, "style": ""})
            else:
                style = f"background: {colour(cell.value, scale)}"
                row.append(
                    {"state": "shown", "value": cell.value, "n": cell.n, "style": style}
                )
        if any(c["state"] != "empty" for c in row):
            rows.append({"unit_id": unit_id, "cells": row})
    return {"periods": periods, "rows": rows}
