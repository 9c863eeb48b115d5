"""The results object every linkage model returns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from excx.errors import InputError
from excx.linkage.results import FRAME_COLUMNS, LinkageResult, compare


def _result(**overrides) -> LinkageResult:
    values = dict(
        model="fixed_effects",
        params=pd.Series({"enps_lag1": 0.2, "quality": -0.1}),
        std_errors=pd.Series({"enps_lag1": 0.05, "quality": 0.1}),
        pvalues=pd.Series({"enps_lag1": 6.3e-5, "quality": 0.32}),
        n_units=40,
        n_periods=12,
        n_obs=440,
        statements=("A 10-point rise goes with +2 NPS.",),
        caveats=("associational",),
    )
    values.update(overrides)
    return LinkageResult(**values)


def test_normal_intervals():
    intervals = _result().conf_int(0.9)
    z = stats.norm.ppf(0.95)  # 1.6449 (standard normal quantile)
    assert intervals.loc["enps_lag1", "ci_low"] == pytest.approx(0.2 - z * 0.05)
    assert intervals.loc["quality", "ci_high"] == pytest.approx(-0.1 + z * 0.1)
    with pytest.raises(InputError, match="level"):
        _result().conf_int(1.5)


def test_percentile_intervals_from_draws():
    draws = pd.DataFrame(
        {"enps_lag1": np.arange(1, 101) / 100.0, "quality": np.zeros(100)}
    )
    intervals = _result(draws=draws).conf_int(0.9)
    # numpy/pandas linear quantile of 0.01..1.00 at 5% and 95%: 0.0595, 0.9505
    assert intervals.loc["enps_lag1"].tolist() == pytest.approx([0.0595, 0.9505])


def test_to_frame_rows_and_columns():
    frame = _result().to_frame()
    assert list(frame.columns) == FRAME_COLUMNS
    assert frame["term"].tolist() == ["enps_lag1", "quality"]
    assert frame["n_units"].tolist() == [40, 40]
    assert frame.loc[0, "estimate"] == pytest.approx(0.2)
    assert frame["reason"].isna().all()


def test_term_models_override_the_model_name():
    frame = _result(term_models={"quality": "chain_money"}).to_frame()
    assert frame["model"].tolist() == ["fixed_effects", "chain_money"]


def test_summary_text_and_html():
    summary = _result().summary()
    text = summary.as_text()
    assert (
        "enps_lag1" in text and "Units: 40" in text and "Caveat: associational" in text
    )
    assert str(summary) == text
    html = _result(statements=("<b>x</b> & y",)).summary().as_html()
    assert "<table" in html and "&lt;b&gt;x&lt;/b&gt; &amp; y" in html


def test_without_estimate_says_why():
    empty = LinkageResult.without_estimate(
        "multilevel", ["enps_between"], "all eNPS cells suppressed", n_units=3
    )
    assert empty.reading() == "No estimate (multilevel): all eNPS cells suppressed"
    row = empty.to_frame().iloc[0]
    assert np.isnan(row["estimate"]) and row["reason"] == "all eNPS cells suppressed"
    assert "no estimate" in repr(empty)


def test_compare_stacks_results():
    both = compare(_result(), _result(model="fixed_effects_corrected"))
    assert both["model"].tolist() == [
        "fixed_effects",
        "fixed_effects",
        "fixed_effects_corrected",
        "fixed_effects_corrected",
    ]
    with pytest.raises(InputError):
        compare()
