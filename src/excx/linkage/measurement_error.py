"""Fixed effects corrected for the sampling error of the EX regressor.

A unit-period eNPS from a handful of answers is a noisy measure of the unit's
true eNPS; that noise attenuates the fixed-effects slope towards zero.
:func:`fixed_effects_corrected` removes the attenuation with the known sampling
variance of every cell (regression calibration).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from excx.errors import InputError
from excx.linkage.fixed_effects import (
    _ASSOCIATIONAL,
    _demean,
    _estimation_sample,
    _fit,
)
from excx.linkage.lags import _term
from excx.linkage.results import LinkageResult

__all__ = ["fixed_effects_corrected"]

#: What a sampling-variance column can hold (see fixed_effects_corrected).
VARIANCE_KINDS = ("plug_in", "adjusted_wald", "unbiased")


def fixed_effects_corrected(
    panel: pd.DataFrame,
    *,
    y: str = "nps",
    x: str = "enps",
    x_variance: str = "enps_var",
    x_n: str | None = "enps_n",
    x_variance_kind: str = "plug_in",
    lag: int = 1,
    controls: Sequence[str] = (),
    unit: str = "unit_id",
    period: str = "period",
    level: float = 0.95,
) -> LinkageResult:
    r"""Fixed-effects estimate corrected for sampling error in the EX regressor.

    Parameters
    ----------
    panel
        As for :func:`fixed_effects`, plus ``x_variance`` and ``x_n``.
    x_variance, x_n, x_variance_kind
        Sampling variance of each ``x`` cell, respondents per cell, and what the
        variance is: ``"plug_in"`` (default; the panel's ``enps_var``,
        100²·(pP + pD − (pP − pD)²)/n), ``"adjusted_wald"`` (the same with
        Rocks' pseudo-observations, n + 3) or ``"unbiased"`` (used as it is;
        ``x_n`` not needed). The first two are converted exactly to the
        unbiased variance of the plain score (see Notes).
    y, x, lag, controls, unit, period
        As for :func:`fixed_effects`.
    level
        Interval level used in the reading.

    Returns
    -------
    LinkageResult
        Model ``fixed_effects_corrected``, one term (e.g. ``enps_lag1``).
        ``extras["naive"]`` holds the uncorrected :func:`fixed_effects` result
        (show both with :func:`~excx.linkage.results.compare`) and
        ``extras["reliability"]`` the estimated λ.

    Notes
    -----
    Let :math:`\tilde x` be the lagged driver after removing unit and period
    means and residualising on the (demeaned) controls, :math:`\tilde y` the
    outcome treated alike, and :math:`s^2_{ut}` the sampling variance of the
    lagged driver in row (u, t). Removing unit and period means keeps a share
    :math:`k_{ut} = (1 - 1/T_u)(1 - 1/N_t)` of that error variance
    (:math:`T_u` rows of unit u, :math:`N_t` rows of period t; exact for a
    balanced panel, an approximation otherwise), so

    .. math::
        \lambda = 1 - \frac{\sum_{ut} k_{ut} s^2_{ut}}{\sum_{ut}\tilde x^2_{ut}},
        \qquad \hat\beta_c = \hat\beta_{naive} / \lambda
        = \frac{\sum \tilde x\tilde y}{\sum (\tilde x^2 - k s^2)}.

    This is the method-of-moments errors-in-variables estimator with known
    error variance (regression calibration). Its variance is the unit-clustered
    sandwich (delta method) of the estimating equation
    :math:`\sum_u \psi_u(\beta) = 0`, :math:`\psi_u = \sum_t [\tilde x(\tilde y
    - \beta\tilde x) + \beta k s^2]`, times G/(G−1) for G units, with a normal
    interval; the demeaning is treated as fixed. Only the EX driver is
    corrected; controls are taken as error-free.

    An understated error variance leaves the correction short: the plug-in
    variance is low by (n − 1)/n and is multiplied by n/(n − 1); the
    adjusted-Wald variance (DESIGN.md: ¾ promoter and ¾ detractor added,
    n + 3) is low by about (n − 1)/(n + 3), so promoter and detractor counts
    are recovered from the score and that variance, P − D = n·x/100 and
    P + D = (n + 3)·((n + 3)·V/100² + ((P − D)/(n + 3))²) − 3/2, and the unbiased
    variance 100²·((P + D)/n − ((P − D)/n)²)/(n − 1) is used.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> true = rng.normal(0, 20, 400)
    >>> p = pd.DataFrame({"unit_id": np.repeat(np.arange(40), 10),
    ...     "period": np.tile(pd.date_range("2026-01-01", periods=10, freq="MS"), 40),
    ...     "enps": true + rng.normal(0, 20, 400), "enps_var": 400.0})
    >>> p["nps"] = 0.5 * pd.Series(true).groupby(p["unit_id"]).shift(1)
    >>> p["nps"] += rng.normal(0, 2, 400)
    >>> r = fixed_effects_corrected(p, x_variance_kind="unbiased")
    >>> bool(r.extras["naive"].params["enps_lag1"] < r.params["enps_lag1"])
    True
    """
    model = "fixed_effects_corrected"
    frame, term = _estimation_sample(
        panel,
        y=y,
        x=x,
        lag=lag,
        controls=controls,
        extra=_error_columns(x_variance, x_n, x_variance_kind),
        unit=unit,
        period=period,
    )
    variance = _sampling_variance(frame, term, x_variance, x_n, x_variance_kind, lag)
    naive = _fit(
        frame,
        outcome=y,
        driver=x,
        term=term,
        controls=controls,
        lag=lag,
        model="fixed_effects",
    )
    if naive.reason is not None:
        return LinkageResult.without_estimate(
            model,
            [term],
            naive.reason,
            n_units=naive.n_units,
            n_periods=naive.n_periods,
            n_obs=naive.n_obs,
        )
    estimate = _corrected_moments(frame, y, term, variance, controls)
    if estimate["reliability"] <= 0.1:
        result = LinkageResult.without_estimate(
            model,
            [term],
            f"the within-unit variation of {term} is mostly sampling noise "
            f"(reliability λ = {estimate['reliability']:.2f}); no correction "
            "is reliable",
            n_units=naive.n_units,
            n_periods=naive.n_periods,
            n_obs=naive.n_obs,
        )
        result.extras.update(naive=naive, reliability=estimate["reliability"])
        return result
    return _corrected_result(naive, estimate, term=term, y=y, x=x, lag=lag, level=level)


def _error_columns(x_variance: str, x_n: str | None, kind: str) -> tuple[str, ...]:
    """Columns the error variance needs, after checking the kind."""
    if kind not in VARIANCE_KINDS:
        raise InputError(
            f"x_variance_kind={kind!r}; accepted: {', '.join(VARIANCE_KINDS)}"
        )
    if kind == "unbiased":
        return (x_variance,)
    if x_n is None:
        raise InputError(f"x_variance_kind={kind!r} needs x_n (respondents per cell)")
    return (x_variance, x_n)


def _sampling_variance(
    frame: pd.DataFrame,
    term: str,
    x_variance: str,
    x_n: str | None,
    kind: str,
    lag: int,
) -> np.ndarray:
    """Unbiased sampling variance of the (lagged) driver, per row."""
    variance = frame[_term(x_variance, lag)].to_numpy(dtype=float)
    if kind == "unbiased":
        return variance
    n = frame[_term(x_n, lag)].to_numpy(dtype=float)
    if np.any(n < 2):
        raise InputError(f"{x_n} must be at least 2 respondents in every used cell")
    if kind == "plug_in":
        return variance * n / (n - 1)
    net = n * frame[term].to_numpy(dtype=float) / 100
    both = (n + 3) * ((n + 3) * variance / 100**2 + (net / (n + 3)) ** 2) - 1.5
    return 100**2 * (both / n - (net / n) ** 2) / (n - 1)


def _corrected_moments(
    frame: pd.DataFrame,
    y: str,
    term: str,
    variance: np.ndarray,
    controls: Sequence[str],
) -> dict[str, float]:
    """Reliability, corrected slope and its clustered sandwich variance."""
    demeaned = _demean(frame, [y, term, *controls])
    x_t, y_t = demeaned[term].to_numpy(), demeaned[y].to_numpy()
    if controls:
        c = demeaned[list(controls)].to_numpy()
        x_t = x_t - c @ np.linalg.lstsq(c, x_t, rcond=None)[0]
        y_t = y_t - c @ np.linalg.lstsq(c, y_t, rcond=None)[0]
    per_unit = frame.groupby("_unit")["_period"].transform("size").to_numpy()
    per_period = frame.groupby("_period")["_unit"].transform("size").to_numpy()
    error_var = variance * (1 - 1 / per_unit) * (1 - 1 / per_period)

    sxx, sxy, d = x_t @ x_t, x_t @ y_t, error_var.sum()
    beta = sxy / (sxx - d)
    score = pd.Series(x_t * (y_t - beta * x_t) + beta * error_var)
    per_unit = score.groupby(frame["_unit"].to_numpy()).sum().to_numpy()
    groups = len(per_unit)
    variance_beta = groups / (groups - 1) * (per_unit @ per_unit) / (sxx - d) ** 2
    return {
        "beta": float(beta),
        "std_error": float(np.sqrt(variance_beta)),
        "reliability": float(1 - d / sxx),
        "naive_beta": float(sxy / sxx),
    }


def _corrected_result(
    naive: LinkageResult,
    estimate: dict[str, float],
    *,
    term: str,
    y: str,
    x: str,
    lag: int,
    level: float,
) -> LinkageResult:
    beta, se, lam = estimate["beta"], estimate["std_error"], estimate["reliability"]
    z = stats.norm.ppf((1 + level) / 2)
    p_value = 2 * stats.norm.sf(abs(beta / se))
    naive_beta = float(naive.params[term])
    statement = (
        f"Corrected for sampling error in {x} (reliability λ = {lam:.2f}), a "
        f"10-point within-unit rise in {x} goes with {10 * beta:+.2f} points of {y} "
        f"{lag} period(s) later ({level:.0%} interval {10 * (beta - z * se):+.2f} "
        f"to {10 * (beta + z * se):+.2f}); uncorrected: {10 * naive_beta:+.2f}."
    )
    caveats = [_ASSOCIATIONAL]
    if lam < 0.5:
        caveats.append(
            f"reliability λ = {lam:.2f} is low: more than half of the within-unit "
            f"variation of {x} is sampling noise, so the correction is large and "
            "its interval wide"
        )
    return LinkageResult(
        model="fixed_effects_corrected",
        params=pd.Series({term: beta}),
        std_errors=pd.Series({term: se}),
        pvalues=pd.Series({term: p_value}),
        n_units=naive.n_units,
        n_periods=naive.n_periods,
        n_obs=naive.n_obs,
        statements=(statement,),
        caveats=tuple(caveats),
        extras={"naive": naive, "reliability": lam},
    )
