"""Lagged and lead copies within units: gaps are never bridged, quarters step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from excx.errors import InputError
from excx.linkage import with_lags


def test_with_lags_respects_gaps_and_leads():
    panel = pd.DataFrame(
        {
            "unit_id": ["a", "a", "a", "b", "b"],
            "period": pd.to_datetime(
                ["2026-01-01", "2026-02-01", "2026-04-01", "2026-01-01", "2026-02-01"]
            ),
            "enps": [10.0, 20.0, 40.0, -5.0, 5.0],
        }
    )
    out = with_lags(panel, ["enps"], (1, 2, -1))
    assert out["enps_lag1"].tolist() == pytest.approx(
        [np.nan, 10, np.nan, np.nan, -5], nan_ok=True
    )
    assert out["enps_lag2"].tolist() == pytest.approx(
        [np.nan, np.nan, 20, np.nan, np.nan], nan_ok=True
    )
    assert out["enps_lead1"].tolist() == pytest.approx(
        [20, np.nan, np.nan, 5, np.nan], nan_ok=True
    )
    with pytest.raises(InputError, match="duplicate"):
        with_lags(pd.concat([panel, panel]), ["enps"])


def test_with_lags_on_quarters():
    panel = pd.DataFrame(
        {
            "unit_id": ["a"] * 3,
            "period": pd.to_datetime(["2026-01-01", "2026-04-01", "2026-10-01"]),
            "enps": [1.0, 2.0, 3.0],
        }
    )
    assert with_lags(panel, ["enps"])["enps_lag1"].tolist() == pytest.approx(
        [np.nan, 1.0, np.nan], nan_ok=True
    )
