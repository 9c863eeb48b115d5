from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from excx.metrics import intervals


def _rocks_by_pseudo_sample(promoters, passives, detractors, level=0.95):
    """Adjusted Wald NPS interval computed another way, as an independent check.

    Rocks (2016, The American Statistician; R package brendan-r/NPS, nps_test with
    test="adjusted.wald", pseudo_observations = c(0.75, 1.5, 0.75)) adds 3/4
    detractor, 3/2 passive and 3/4 promoter, then builds a Wald interval. Here the
    Wald variance is the variance of the scores -1/0/+1 of the augmented
    trinomial sample, E[X^2] - E[X]^2, divided by its size.
    """
    weights = {1: promoters + 0.75, 0: passives + 1.5, -1: detractors + 0.75}
    size = sum(weights.values())
    mean = sum(x * w for x, w in weights.items()) / size
    second = sum(x * x * w for x, w in weights.items()) / size
    half = stats.norm.ppf(0.5 + level / 2) * math.sqrt((second - mean**2) / size)
    return 100 * (mean - half), 100 * (mean + half)


@pytest.mark.parametrize(
    ("promoters", "passives", "detractors"),
    [(5, 2, 3), (0, 0, 4), (40, 25, 35), (12, 0, 0), (300, 450, 250)],
)
def test_adjusted_wald_matches_pseudo_observation_construction(
    promoters, passives, detractors
):
    # No published worked example of Rocks' adjusted Wald with numbers was found
    # (MeasuringU's pages describe the method only); reference = the independent
    # construction above.
    n = promoters + passives + detractors
    low, high = intervals.nps_interval(
        np.array([n]), np.array([promoters]), np.array([detractors])
    )
    expected_low, expected_high = _rocks_by_pseudo_sample(
        promoters, passives, detractors
    )
    assert low[0] == pytest.approx(max(expected_low, -100), abs=1e-9)
    assert high[0] == pytest.approx(min(expected_high, 100), abs=1e-9)


def test_adjusted_wald_never_collapses_at_the_extremes():
    # 4 detractors out of 4: Wald gives the zero-width interval (-100, -100);
    # the adjusted interval: p=.75/7, d=4.75/7, c=-4/7=-.571429,
    # Var=(5.5/7 - c^2)/7 = (.785714-.326531)/7=.065598, half=1.959964*.256121=.501988
    # -> (-100 after clipping -107.3, -6.944)
    low, high = intervals.nps_interval(np.array([4]), np.array([0]), np.array([4]))
    assert low[0] == -100
    assert high[0] == pytest.approx(-6.9441, abs=1e-3)
    wald_low, wald_high = intervals.nps_interval(
        np.array([4]), np.array([0]), np.array([4]), adjusted=False
    )
    assert (wald_low[0], wald_high[0]) == (-100, -100)


def test_wilson_matches_statsmodels():
    # reference: statsmodels.stats.proportion.proportion_confint(method="wilson")
    from statsmodels.stats.proportion import proportion_confint

    successes, n = np.array([0, 3, 17, 50]), np.array([10, 9, 40, 50])
    low, high = intervals.wilson_interval(successes, n, level=0.9)
    ref_low, ref_high = proportion_confint(successes, n, alpha=0.1, method="wilson")
    np.testing.assert_allclose(low, ref_low, atol=1e-12)
    np.testing.assert_allclose(high, ref_high, atol=1e-12)


def test_t_interval_matches_scipy():
    # reference: scipy.stats.t.interval on the same mean, sd and n
    low, high = intervals.t_interval(np.array([12]), np.array([3.5]), np.array([1.2]))
    ref = stats.t.interval(0.95, 11, loc=3.5, scale=1.2 / math.sqrt(12))
    assert (low[0], high[0]) == pytest.approx(ref, abs=1e-12)


def test_bootstrap_is_reproducible_and_centred():
    counts = np.array([[300, 200, 500], [1, 0, 9]])
    weights = np.array([-100.0, 0.0, 100.0])
    first = intervals.bootstrap_interval(counts, weights, seed=11)
    again = intervals.bootstrap_interval(counts, weights, seed=11)
    other = intervals.bootstrap_interval(counts, weights, seed=12)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    # n=1000, P=.5, D=.3: Wald half width 1.96*sqrt((.8-.04)/1000)*100 = 5.40;
    # the percentile bootstrap of a multinomial agrees within sampling noise.
    low, high = first[0][0], first[1][0]
    assert low == pytest.approx(20 - 5.40, abs=0.6)
    assert high == pytest.approx(20 + 5.40, abs=0.6)
    assert -100 <= first[0][1] <= 80 <= first[1][1] <= 100


def test_bootstrap_proportion_draws_stay_in_range():
    low, high = intervals.bootstrap_interval(
        np.array([[0, 20], [20, 0]]), np.array([0.0, 100.0])
    )
    # all satisfied / none satisfied: every resample is identical
    assert (low[0], high[0]) == (100, 100)
    assert (low[1], high[1]) == (0, 0)
