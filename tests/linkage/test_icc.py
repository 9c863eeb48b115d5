"""ICC(1), ICC(2): published tables, simulations, MixedLM, engines."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from excx.errors import AggregationWarning, InputError
from excx.linkage.icc import (
    group_moments,
    icc,
    icc_from_groups,
    respondents_for_reliability,
)

# Shrout & Fleiss (1979), Psychological Bulletin 86(2), Table 2: six targets
# (rows) rated by four judges (columns).
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def shrout_fleiss_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [(t, r) for t, row in enumerate(SHROUT_FLEISS) for r in row],
        columns=["target", "rating"],
    )


def simulated_units(n_units: int, size: int, tau2: float, sigma2: float, seed: int):
    rng = np.random.default_rng(seed)
    effects = rng.normal(0, np.sqrt(tau2), n_units)
    unit = np.repeat(np.arange(n_units), size)
    return pd.DataFrame(
        {
            "unit": unit,
            "score": 3 + effects[unit] + rng.normal(0, np.sqrt(sigma2), unit.size),
        }
    )


def test_shrout_fleiss_one_way_icc():
    with pytest.warns(AggregationWarning, match="across 6 units"):
        result = icc(shrout_fleiss_frame(), value="rating", group="target")
    result = result.set_index("statistic")
    # Shrout & Fleiss (1979) Table 4, one-way random: ICC(1,1) = .17, ICC(1,4) = .44
    assert round(result.loc["ICC1", "value"], 2) == 0.17
    assert round(result.loc["ICC2", "value"], 2) == 0.44
    # Shrout & Fleiss (1979) Table 3: BMS = 11.24, WMS = 6.26, so F = 1.80
    assert result.loc["ICC1", "F"] == pytest.approx(11.24 / 6.26, abs=0.005)
    assert (result["df1"] == 5).all() and (result["df2"] == 18).all()
    # balanced data: the mean unit reliability equals ICC(2)
    assert result.loc["mean_reliability", "value"] == pytest.approx(
        result.loc["ICC2", "value"]
    )
    low, high = result.loc["ICC1", ["ci_low", "ci_high"]]
    assert low < 0 < result.loc["ICC1", "value"] < high


def test_simulated_icc_recovers_known_value():
    # true ICC(1) = tau2 / (tau2 + sigma2) = 0.25 by construction;
    # sampling SE at J = 1000, n = 5 is about 0.015 (Donner 1986), tolerance 3 SE
    data = simulated_units(1000, 5, tau2=0.25, sigma2=0.75, seed=1)
    result = icc(data, value="score", group="unit").set_index("statistic")
    assert result.loc["ICC1", "value"] == pytest.approx(0.25, abs=0.045)
    assert result.loc["ICC1", "ci_low"] < 0.25 < result.loc["ICC1", "ci_high"]
    # Spearman-Brown at n = 5 of the true value: 5 * .25 / (1 + 4 * .25) = 0.625
    assert result.loc["ICC2", "value"] == pytest.approx(0.625, abs=0.04)
    assert result.loc["ICC1", "p_value"] < 1e-10


def test_anova_icc_equals_mixedlm_variance_components_on_balanced_data():
    # On balanced data the REML variance components equal the ANOVA ones
    # (Searle, Casella & McCulloch 1992, ch. 3) when the ANOVA tau2 is positive.
    data = simulated_units(30, 6, tau2=0.4, sigma2=1.0, seed=2)
    fit = smf.mixedlm("score ~ 1", data, groups=data["unit"]).fit(reml=True)
    tau2, sigma2 = float(fit.cov_re.iloc[0, 0]), float(fit.scale)
    result = icc(data, value="score", group="unit").set_index("statistic")
    assert result.loc["ICC1", "value"] == pytest.approx(
        tau2 / (tau2 + sigma2), abs=1e-4
    )
    assert result.loc["ICC2", "value"] == pytest.approx(
        6 * tau2 / (sigma2 + 6 * tau2), abs=1e-4
    )


def test_unequal_group_sizes_use_adjusted_size():
    data = pd.concat(
        [
            simulated_units(20, 3, 0.3, 1.0, seed=3),
            simulated_units(20, 12, 0.3, 1.0, seed=4).assign(
                unit=lambda d: d.unit + 20
            ),
        ]
    )
    adjusted = icc(data, value="score", group="unit").set_index("statistic")
    mean_size = icc(data, value="score", group="unit", group_size="mean")
    n_total, sizes = 300, np.array([3] * 20 + [12] * 20)
    k0 = (n_total - (sizes**2).sum() / n_total) / 39  # Bliese (2000), eq. for k0
    assert adjusted.loc["ICC1", "k"] == pytest.approx(k0)
    assert mean_size.loc[0, "k"] == pytest.approx(7.5)
    icc1 = adjusted.loc["ICC1", "value"]
    assert adjusted.loc["mean_reliability", "value"] == pytest.approx(
        np.mean(sizes * icc1 / (1 + (sizes - 1) * icc1))
    )


def test_sufficient_statistics_give_the_same_answer():
    data = shrout_fleiss_frame()
    groups = group_moments(data, value="rating", group="target")
    # Shrout & Fleiss (1979) Table 2, row 1: 9, 2, 5, 8 -> mean 6, ss 30
    assert groups.loc[0, ["n", "mean", "ss"]].tolist() == [4, 6.0, 30.0]
    renamed = groups.rename(columns={"n": "count", "mean": "avg", "ss": "sq"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AggregationWarning)
        direct = icc(data, value="rating", group="target")
        from_groups = icc_from_groups(renamed, n="count", mean="avg", ss="sq")
    pd.testing.assert_frame_equal(direct, from_groups)


def test_engine_computes_the_moments(store):
    data = simulated_units(12, 4, 0.5, 1.0, seed=5)
    data.loc[3, "score"] = np.nan
    store.con.create_table("answers", data)
    in_engine = icc(store.con.table("answers"), value="score", group="unit")
    in_pandas = icc(data, value="score", group="unit")
    pd.testing.assert_frame_equal(in_engine, in_pandas, check_exact=False)
    assert in_engine.loc[0, "n"] == 47


def test_icc_bad_input():
    data = shrout_fleiss_frame()
    with pytest.raises(InputError, match="value='score'.*no such column"):
        icc(data, value="score", group="target")
    with pytest.raises(InputError, match="at least 3 units.*got 2"):
        icc(data[data.target < 2], value="rating", group="target")
    constant = data.assign(rating=4)
    result = icc(constant, value="rating", group="target")
    assert result["value"].isna().all()
    assert (result["reason"] == "all answers are equal: variance is zero").all()
    equal_means = pd.DataFrame({"u": [1, 1, 2, 2, 3, 3], "v": [1.0, 3, 1, 3, 2, 2]})
    with pytest.warns(AggregationWarning):
        degenerate = icc(equal_means, value="v", group="u").set_index("statistic")
    # hand: MSB = 0, MSW = 1, k = 2 -> ICC(1) = -1 / (k - 1) = -1
    assert degenerate.loc["ICC1", "value"] == -1.0
    assert "MSB = 0" in degenerate.loc["ICC2", "reason"]
    assert "Spearman-Brown undefined" in degenerate.loc["mean_reliability", "reason"]
    assert degenerate.loc[["ICC2", "mean_reliability"], "value"].isna().all()
    singles = data.drop_duplicates("target")
    assert (
        icc(singles, value="rating", group="target")["reason"]
        .str.contains("single answer")
        .all()
    )


def test_respondents_for_reliability_inverts_spearman_brown():
    # n = .7 * .9 / (.1 * .3) = 21 (Spearman-Brown solved for n)
    n = respondents_for_reliability(0.10, target=0.70)
    assert n == pytest.approx(21.0)
    assert n * 0.1 / (1 + (n - 1) * 0.1) == pytest.approx(0.70)
    with pytest.raises(InputError, match="icc1: must be strictly between"):
        respondents_for_reliability(-0.02)
