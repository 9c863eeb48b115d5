"""Lagged fixed effects, the reverse direction and the measurement-error correction."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from linearmodels import PanelOLS
from linearmodels.datasets import wage_panel

from excx.errors import InputError, SmallSampleWarning
from excx.linkage import (
    compare,
    fixed_effects,
    fixed_effects_both_directions,
    fixed_effects_corrected,
    with_lags,
)

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_linkage_coverage.py"


def _bench():
    """The documented panel-level data-generating process (known true effect)."""
    spec = importlib.util.spec_from_file_location("bench_linkage_coverage", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench()


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return function(*args, **kwargs)


def test_wage_panel_matches_linearmodels_documentation():
    data = wage_panel.load()
    result = fixed_effects(
        data,
        y="lwage",
        x="expersq",
        lag=0,
        controls=("union", "married"),
        unit="nr",
        period="year",
    )
    # linearmodels docs, panel "Examples", PanelOLS with entity and time effects
    # (https://bashtage.github.io/linearmodels/panel/examples/examples.html):
    # expersq -0.0052, union 0.0800, married 0.0467; plm "within" with
    # factor(year) gives union 0.08, married 0.05 (pastebin.com/ZvmnsG3i).
    assert result.params["expersq"] == pytest.approx(-0.0052, abs=5e-5)
    assert result.params["union"] == pytest.approx(0.0800, abs=5e-5)
    assert result.params["married"] == pytest.approx(0.0467, abs=5e-5)
    assert (result.n_units, result.n_periods, result.n_obs) == (545, 8, 4360)

    # Unit-clustered errors: the same as linearmodels' clustered fit.
    indexed = data.set_index(["nr", "year"])
    direct = PanelOLS(
        indexed.lwage,
        indexed[["expersq", "union", "married"]],
        entity_effects=True,
        time_effects=True,
    ).fit(cov_type="clustered", cluster_entity=True)
    np.testing.assert_allclose(result.std_errors, direct.std_errors, rtol=1e-10)
    frame = result.to_frame()
    assert frame["model"].eq("fixed_effects").all()
    assert frame["term"].tolist() == ["expersq", "union", "married"]


def test_correction_recovers_the_known_effect():
    covered, attenuated = 0, 0
    for seed in range(5):
        result = fixed_effects_corrected(bench.simulate_panel(seed))
        naive = result.extras["naive"]
        low, high = result.conf_int().loc["enps_lag1"]
        covered += low <= bench.TRUE_EFFECT <= high
        # Naive slope = corrected slope × λ, and below the truth (attenuation).
        assert naive.params["enps_lag1"] == pytest.approx(
            result.params["enps_lag1"] * result.extras["reliability"], rel=1e-9
        )
        attenuated += naive.conf_int().loc["enps_lag1", "ci_high"] < bench.TRUE_EFFECT
    # Truth set in benchmarks/bench_linkage_coverage.py (TRUE_EFFECT = 0.3).
    assert covered >= 4
    assert attenuated == 5


def test_naive_cross_section_is_biased_by_the_regional_confounder():
    panel = with_lags(bench.simulate_panel(1), ["enps"])
    pooled = smf.ols("nps ~ enps_lag1", panel.dropna()).fit().params["enps_lag1"]
    corrected = fixed_effects_corrected(bench.simulate_panel(1))
    low, high = corrected.conf_int().loc["enps_lag1"]
    # Truth 0.3 (benchmarks/bench_linkage_coverage.py); regions and units push
    # the pooled cross-sectional slope far above it.
    assert pooled > bench.TRUE_EFFECT + 0.1
    assert not low <= pooled <= high
    assert low <= bench.TRUE_EFFECT <= high


def test_both_directions_side_by_side():
    frame = fixed_effects_both_directions(bench.simulate_panel(2))
    assert frame["model"].tolist() == ["fixed_effects", "fixed_effects_reverse"]
    assert frame["term"].tolist() == ["enps_lag1", "nps_lag1"]
    assert frame["reason"].isna().all()
    reverse = fixed_effects(bench.simulate_panel(2), reverse=True)
    assert "nps" in reverse.reading() and "associational" in reverse.reading()


def test_controls_enter_the_model():
    panel = bench.simulate_panel(3)
    result = fixed_effects(panel, controls=("quality",))
    assert list(result.params.index) == ["enps_lag1", "quality"]
    # Oracle: least squares with unit and period dummies (statsmodels OLS, LSDV).
    dummies = smf.ols(
        "nps ~ enps_lag1 + quality + C(unit_id) + C(period)",
        with_lags(panel, ["enps"]).dropna(subset=["enps_lag1", "nps"]),
    ).fit()
    np.testing.assert_allclose(
        result.params, dummies.params[["enps_lag1", "quality"]], rtol=1e-8
    )
    corrected = fixed_effects_corrected(panel, controls=("quality",))
    side = compare(corrected.extras["naive"], corrected)
    assert side["model"].tolist() == [
        "fixed_effects",
        "fixed_effects",
        "fixed_effects_corrected",
    ]


def _small_panel(n_units=6, n_periods=4, seed=0):
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2026-01-01", periods=n_periods, freq="MS")
    return pd.DataFrame(
        {
            "unit_id": np.repeat(np.arange(n_units), n_periods),
            "period": np.tile(periods, n_units),
            "enps": rng.normal(0, 20, n_units * n_periods),
            "nps": rng.normal(0, 20, n_units * n_periods),
            "enps_var": 300.0,
            "enps_n": 15,
            "quality": rng.normal(60, 5, n_units * n_periods),
        }
    )


def test_too_few_units_or_periods():
    with pytest.raises(InputError, match="too few units"):
        fixed_effects(_small_panel(n_units=3))
    with pytest.raises(InputError, match="too few units"):
        _quiet(fixed_effects, _small_panel(n_periods=1), lag=0)


def test_all_ex_cells_suppressed():
    panel = _small_panel().assign(enps=np.nan)
    with pytest.raises(InputError, match="every enps cell is null"):
        fixed_effects(panel)


def test_missing_column_and_negative_lag():
    with pytest.raises(InputError, match="no column"):
        fixed_effects(_small_panel(), y="csat")
    with pytest.raises(InputError, match="lag"):
        fixed_effects(_small_panel(), lag=-1)


def test_constant_regressor_gives_a_reason():
    panel = _small_panel().assign(enps=lambda p: p["unit_id"] * 10.0)
    result = fixed_effects(panel)
    assert result.reason is not None and "does not vary" in result.reason
    row = result.to_frame().iloc[0]
    assert np.isnan(row["estimate"]) and row["reason"] == result.reason
    assert result.reading().startswith("No estimate")
    corrected = fixed_effects_corrected(panel)
    assert corrected.reason == result.reason


def test_unit_with_one_period_is_dropped_with_a_warning():
    panel = _small_panel(n_units=7)
    panel = panel[~((panel["unit_id"] == 6) & (panel["period"] > "2026-02-01"))]
    with pytest.warns(SmallSampleWarning, match="1 unit"):
        result = fixed_effects(panel)
    assert result.n_units == 6


def test_collinear_controls():
    panel = _small_panel().assign(quality2=lambda p: 2 * p["quality"] + 1)
    with pytest.raises(InputError, match="collinear"):
        fixed_effects(panel, controls=("quality", "quality2"))


def test_reliability_too_low_gives_a_reason():
    panel = _small_panel(n_units=10, n_periods=6).assign(enps_var=10_000.0)
    result = fixed_effects_corrected(panel, x_variance_kind="unbiased")
    assert result.reason is not None and "sampling noise" in result.reason
    assert result.extras["reliability"] < 0.1


def test_adjusted_wald_variance_is_converted_exactly():
    panel = bench.simulate_panel(5)
    n, score = panel["enps_n"], panel["enps"] / 100
    both = panel["enps_var"] * n / 100**2 + score**2  # pP + pD from the plug-in
    promoters, detractors = n * (both + score) / 2, n * (both - score) / 2
    # Adjusted Wald (Rocks 2016; DESIGN.md): ¾ promoter and ¾ detractor, n + 3.
    p_adj, d_adj = (promoters + 0.75) / (n + 3), (detractors + 0.75) / (n + 3)
    adjusted = 100**2 * (p_adj + d_adj - (p_adj - d_adj) ** 2) / (n + 3)
    plug_in = fixed_effects_corrected(panel)
    wald = fixed_effects_corrected(
        panel.assign(enps_var=adjusted), x_variance_kind="adjusted_wald"
    )
    assert wald.params["enps_lag1"] == pytest.approx(
        plug_in.params["enps_lag1"], rel=1e-10
    )
    # Read as if unbiased, the plug-in variance under-corrects (λ too high).
    short = fixed_effects_corrected(panel, x_variance_kind="unbiased")
    assert short.extras["reliability"] > plug_in.extras["reliability"]


def test_variance_kind_is_checked():
    panel = _small_panel(n_units=10, n_periods=6)
    with pytest.raises(InputError, match="x_variance_kind"):
        fixed_effects_corrected(panel, x_variance_kind="wald")
    with pytest.raises(InputError, match="needs x_n"):
        fixed_effects_corrected(panel, x_n=None)
    with pytest.raises(InputError, match="at least 2 respondents"):
        fixed_effects_corrected(panel.assign(enps_n=1))
