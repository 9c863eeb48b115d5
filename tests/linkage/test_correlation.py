"""Unit-level correlation: scipy as the reference, a looped bootstrap as oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from excx.errors import InputError
from excx.linkage.correlation import correlation


def panel(n_units: int = 40, periods: int = 1, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), periods)
    engagement = rng.normal(size=n_units)[unit] + 0.5 * rng.normal(size=unit.size)
    return pd.DataFrame(
        {
            "unit": unit,
            "enps": engagement,
            "nps": 0.5 * engagement + rng.normal(size=unit.size),
            "respondents": rng.integers(5, 40, unit.size),
        }
    )


def looped_cluster_bootstrap(data, method, n_boot, seed):
    """Plain-Python oracle: redraw units one resample at a time."""
    units = data["unit"].unique()
    rows = [np.flatnonzero(data["unit"].to_numpy() == u) for u in units]
    x, y = data["enps"].to_numpy(), data["nps"].to_numpy()
    draws = np.random.default_rng(seed).integers(0, len(units), (n_boot, len(units)))
    correlate = stats.pearsonr if method == "pearson" else stats.spearmanr
    estimates = []
    for draw in draws:
        sample = np.concatenate([rows[j] for j in draw])
        estimates.append(correlate(x[sample], y[sample]).statistic)
    return np.quantile(estimates, [0.025, 0.975])


def test_pearson_matches_scipy():
    data = panel()
    result = correlation(data, x="enps", y="nps", n_boot=0)
    # reference: scipy.stats.pearsonr and its Fisher confidence_interval
    reference = stats.pearsonr(data.enps, data.nps)
    ci = reference.confidence_interval(confidence_level=0.95)
    row = result.iloc[0]
    assert row["value"] == pytest.approx(reference.statistic, abs=1e-12)
    assert row["p_value"] == pytest.approx(reference.pvalue, rel=1e-9)
    assert row[["ci_low", "ci_high"]].tolist() == pytest.approx([ci.low, ci.high])
    assert len(result) == 1 and row["n_units"] == 40


def test_spearman_matches_scipy():
    data = panel(seed=1)
    data.loc[:4, "nps"] = 0.0  # ties: average ranks, as scipy
    row = correlation(data, x="enps", y="nps", method="spearman", n_boot=0).iloc[0]
    reference = stats.spearmanr(data.enps, data.nps)  # reference: scipy.stats
    assert row["value"] == pytest.approx(reference.statistic, abs=1e-12)
    assert row["p_value"] == pytest.approx(reference.pvalue, rel=1e-9)
    # Bonett & Wright (2000): se = sqrt((1 + r^2/2) / (n - 3))
    r = reference.statistic
    se = np.sqrt((1 + r**2 / 2) / 37)
    assert row["ci_high"] == pytest.approx(np.tanh(np.arctanh(r) + 1.959964 * se))


def test_integer_weights_equal_repeated_rows():
    data = panel(n_units=12, seed=2)
    data["respondents"] = [1, 2, 3, 1, 1, 4, 2, 1, 3, 1, 2, 5]
    weighted = correlation(data, x="enps", y="nps", weights="respondents", n_boot=0)
    repeated = data.loc[data.index.repeat(data.respondents)]
    # reference: the weighted Pearson definition = Pearson on repeated rows
    reference = stats.pearsonr(repeated.enps, repeated.nps).statistic
    assert weighted.loc[0, "value"] == pytest.approx(reference, abs=1e-12)
    kish = data.respondents.sum() ** 2 / (data.respondents**2).sum()
    half_width = 1.959964 / np.sqrt(kish - 3)  # Kish effective size in Fisher's se
    z = np.arctanh(reference)
    assert weighted.loc[0, "ci_low"] == pytest.approx(np.tanh(z - half_width))


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_vectorised_cluster_bootstrap_equals_loop(method):
    data = panel(n_units=15, periods=3, seed=3).round(1)  # rounding makes ties
    result = correlation(
        data, x="enps", y="nps", unit="unit", method=method, n_boot=200, seed=7
    )
    boot = result.set_index("interval").loc["cluster_bootstrap"]
    expected = looped_cluster_bootstrap(data, method, n_boot=200, seed=7)
    assert [boot["ci_low"], boot["ci_high"]] == pytest.approx(expected, abs=1e-10)
    assert boot["n"] == 45 and boot["n_units"] == 15
    assert 0 <= boot["p_value"] <= 1


def test_disattenuation_divides_and_clips():
    data = panel(seed=4)
    result = correlation(
        data, x="enps", y="nps", reliability_x=0.8, reliability_y=0.7, n_boot=100
    )
    raw = result[result.statistic == "r"].reset_index(drop=True)
    corrected = result[result.statistic == "r_disattenuated"].reset_index(drop=True)
    # Spearman (1904) correction: r / sqrt(rel_x * rel_y)
    factor = np.sqrt(0.8 * 0.7)
    for column in ("value", "ci_low", "ci_high"):
        assert corrected[column].to_numpy() == pytest.approx(
            np.clip(raw[column].to_numpy() / factor, -1, 1)
        )
    assert (corrected.p_value == raw.p_value).all()
    strong = correlation(data, x="enps", y="enps", reliability_x=0.5, n_boot=0)
    assert strong.loc[1, "value"] == 1.0  # 1 / sqrt(.5) clipped to 1


def test_correlation_bad_input():
    data = panel(n_units=10)
    with pytest.raises(InputError, match="y='csat'.*no such column"):
        correlation(data, x="enps", y="csat")
    with pytest.raises(InputError, match="at least 3 units.*got 2"):
        correlation(data.head(2), x="enps", y="nps")
    with pytest.raises(InputError, match="only accepted with method='pearson'"):
        correlation(data, x="enps", y="nps", weights="respondents", method="spearman")
    with pytest.raises(InputError, match="reliability_y: a reliability in"):
        correlation(data, x="enps", y="nps", reliability_y=1.3)
    with pytest.raises(InputError, match="must be >= 0, row 0"):
        correlation(
            data.assign(respondents=-1), x="enps", y="nps", weights="respondents"
        )
    with pytest.raises(InputError, match="at least one weight must be > 0"):
        correlation(
            data.assign(respondents=0), x="enps", y="nps", weights="respondents"
        )
    flat = correlation(data.assign(nps=3.0), x="enps", y="nps", n_boot=10)
    assert flat["value"].isna().all()
    assert (flat["reason"] == "nps is constant: correlation undefined").all()
    three = correlation(data.head(3), x="enps", y="nps", n_boot=0)
    assert "no Fisher interval" in three.loc[0, "reason"]
    assert not np.isnan(three.loc[0, "value"])
