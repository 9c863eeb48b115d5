"""Confidence intervals computed from per-group counts and sums, vectorised.

Every function takes NumPy arrays with one element per group (the small aggregated
frame the engine returns) and returns ``(low, high)`` arrays on the same scale as the
inputs' estimate. Nothing here sees a raw response.

>>> import numpy as np
>>> low, high = wilson_interval(np.array([8]), np.array([10]), level=0.95)
>>> bool(low[0] < 0.8 < high[0])
True
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

__all__ = [
    "z_value",
    "nps_variance",
    "nps_interval",
    "wilson_interval",
    "wald_proportion_interval",
    "t_interval",
    "bootstrap_interval",
]

# Pseudo-observations of the adjusted Wald NPS interval (Rocks 2016): 3/4 promoter,
# 3/4 detractor and, implicitly, 3/2 passive, so that n grows by 3.
_PSEUDO_PROMOTERS = 0.75
_PSEUDO_DETRACTORS = 0.75
_PSEUDO_N = 3.0

# Cells bootstrapped at once: bounds memory to about cells x replicates x 3 x 8 bytes.
_BOOTSTRAP_CHUNK = 2_000


def z_value(level: float) -> float:
    """Two-sided standard normal quantile for confidence `level` (0.95 → 1.95996)."""
    return NormalDist().inv_cdf(0.5 + level / 2)


def nps_variance(
    n: np.ndarray, promoters: np.ndarray, detractors: np.ndarray, *, adjusted: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Centre and variance of the NPS estimator, on the −1..1 scale.

    Parameters
    ----------
    n, promoters, detractors
        Answers, answers of 9–10 and answers of 0–6 per group.
    adjusted
        Add Rocks' (2016) pseudo-observations (¾ promoter, ¾ detractor, n + 3).

    Returns
    -------
    centre, variance
        ``pP − pD`` and ``(pP + pD − (pP − pD)²) / n`` with the (adjusted) shares
        and denominator.

    Notes
    -----
    The variance is that of the difference of two shares of one multinomial
    sample: ``Var(pP − pD) = (pP(1 − pP) + pD(1 − pD) + 2 pP pD) / n``, which
    simplifies to the form above.

    Examples
    --------
    >>> centre, var = nps_variance(np.array([10]), np.array([5]), np.array([2]),
    ...                            adjusted=False)
    >>> float(centre[0]), round(float(var[0]), 4)
    (0.3, 0.061)
    """
    n = np.asarray(n, dtype=float)
    promoters = np.asarray(promoters, dtype=float)
    detractors = np.asarray(detractors, dtype=float)
    if adjusted:
        n = n + _PSEUDO_N
        promoters = promoters + _PSEUDO_PROMOTERS
        detractors = detractors + _PSEUDO_DETRACTORS
    with np.errstate(divide="ignore", invalid="ignore"):
        share_p, share_d = promoters / n, detractors / n
        centre = share_p - share_d
        variance = (share_p + share_d - centre**2) / n
    return centre, variance


def nps_interval(
    n: np.ndarray,
    promoters: np.ndarray,
    detractors: np.ndarray,
    *,
    level: float = 0.95,
    adjusted: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Wald or adjusted Wald interval of the NPS, on the −100..100 scale.

    Notes
    -----
    ``100 × (c ± z √Var)`` with ``c`` and ``Var`` from :func:`nps_variance`; the
    adjusted interval is centred on the adjusted NPS, not on the observed one
    (Rocks 2016). Limits are clipped to −100..100.

    Examples
    --------
    >>> low, high = nps_interval(np.array([10]), np.array([5]), np.array([2]),
    ...                          adjusted=False)
    >>> round(float(low[0]), 2), round(float(high[0]), 2)
    (-18.41, 78.41)
    """
    centre, variance = nps_variance(n, promoters, detractors, adjusted=adjusted)
    half = z_value(level) * np.sqrt(variance)
    low = np.clip(100 * (centre - half), -100, 100)
    high = np.clip(100 * (centre + half), -100, 100)
    return low, high


def wilson_interval(
    successes: np.ndarray, n: np.ndarray, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion, on the 0..1 scale.

    Notes
    -----
    With ``p = x / n`` and ``z`` the normal quantile::

        (p + z²/2n ± z √(p(1 − p)/n + z²/4n²)) / (1 + z²/n)

    Examples
    --------
    >>> low, high = wilson_interval(np.array([8]), np.array([10]))
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.4902, 0.9433)
    """
    n = np.asarray(n, dtype=float)
    z = z_value(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.asarray(successes, dtype=float) / n
        denominator = 1 + z**2 / n
        centre = (share + z**2 / (2 * n)) / denominator
        half = z * np.sqrt(share * (1 - share) / n + z**2 / (4 * n**2)) / denominator
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def wald_proportion_interval(
    successes: np.ndarray, n: np.ndarray, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wald interval ``p ± z √(p(1 − p)/n)`` of a proportion, clipped to 0..1."""
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.asarray(successes, dtype=float) / n
        half = z_value(level) * np.sqrt(share * (1 - share) / n)
    return np.clip(share - half, 0, 1), np.clip(share + half, 0, 1)


def t_interval(
    n: np.ndarray,
    mean: np.ndarray,
    sd: np.ndarray,
    *,
    level: float = 0.95,
    bounds: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Student t interval of a mean: ``mean ± t(n − 1) · sd / √n``.

    Groups with fewer than two observations get NaN limits. `bounds` clips the
    limits to the scale of the measure.

    Examples
    --------
    >>> low, high = t_interval(np.array([4]), np.array([5.0]), np.array([2.0]))
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (1.8176, 8.1824)
    """
    from scipy import stats  # imported here: NPS and CSAT calls do without scipy

    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = np.where(n > 1, n - 1, np.nan)
        half = stats.t.ppf(0.5 + level / 2, dof) * np.asarray(sd) / np.sqrt(n)
    low, high = np.asarray(mean) - half, np.asarray(mean) + half
    if bounds is not None:
        low, high = np.clip(low, *bounds), np.clip(high, *bounds)
    return low, high


def bootstrap_interval(
    counts: np.ndarray,
    weights: np.ndarray,
    *,
    level: float = 0.95,
    replicates: int = 2000,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of a weighted share, resampled from counts.

    Parameters
    ----------
    counts
        ``(groups, categories)`` answers per category, e.g. detractors, passives
        and promoters for the NPS.
    weights
        Value of each category; the statistic is ``counts @ weights / n``
        (``(-100, 0, 100)`` gives the NPS).
    replicates
        Bootstrap samples per group.
    seed
        Seed of the generator, so that a run can be repeated.

    Notes
    -----
    Drawing ``n`` answers with replacement from a group is the same as drawing
    the category counts from a multinomial with the observed shares, so the
    resampling needs only the counts the engine returns.

    Examples
    --------
    >>> low, high = bootstrap_interval(np.array([[2, 3, 5]]),
    ...                                np.array([-100, 0, 100]))
    >>> bool(low[0] < 30 < high[0])
    True
    """
    counts = np.asarray(counts, dtype=np.int64)
    weights = np.asarray(weights, dtype=float)
    rng = np.random.default_rng(seed)
    tails = [50 * (1 - level), 100 - 50 * (1 - level)]
    low = np.empty(len(counts))
    high = np.empty(len(counts))
    for start in range(0, len(counts), _BOOTSTRAP_CHUNK):
        block = counts[start : start + _BOOTSTRAP_CHUNK]
        statistic = _resample(rng, block, weights, replicates)
        low[start : start + len(block)], high[start : start + len(block)] = (
            np.percentile(statistic, tails, axis=1)
        )
    return low, high


def _resample(
    rng: np.random.Generator, counts: np.ndarray, weights: np.ndarray, replicates: int
) -> np.ndarray:
    """``(groups, replicates)`` bootstrap statistics from multinomial draws.

    A multinomial draw is a chain of binomials: category j takes
    ``Binomial(remaining, p_j / (p_j + … + p_k))``; this is faster than
    ``Generator.multinomial`` with broadcast probabilities.
    """
    n = counts.sum(axis=1)
    remaining = np.broadcast_to(n[:, None], (len(counts), replicates)).copy()
    left_share = np.ones(len(counts))
    total = np.zeros((len(counts), replicates))
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(counts.shape[1] - 1):
            share = counts[:, j] / np.maximum(n, 1)
            conditional = np.clip(np.nan_to_num(share / left_share), 0, 1)
            drawn = rng.binomial(remaining, conditional[:, None])
            total += weights[j] * drawn
            remaining -= drawn
            left_share = left_share - share
        total += weights[-1] * remaining
        return total / np.where(n > 0, n, np.nan)[:, None]
