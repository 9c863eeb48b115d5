"""Empirical-Bayes unit scores for league tables.

A unit with 8 answers and an NPS of +60 is probably not the best unit of the
company; it is the noisiest. Shrinking each unit mean toward the grand mean in
proportion to its unreliability (the random-intercept model's BLUP) ranks units
on what their answers can support.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from excx.errors import InputError
from excx.linkage._checks import (
    _check_min_group_size,
    _require_columns,
    _require_units,
)
from excx.linkage.icc import group_moments
from excx.metrics.kpis import DETRACTOR_MAX, PROMOTER_MIN
from excx.schema import SCORE_RANGES

__all__ = ["shrink", "variance_components"]

logger = logging.getLogger("excx")

_KINDS = ("mean", "nps")
_METHODS = ("reml", "moments")


def shrink(
    data: Any,
    *,
    value: str,
    group: str,
    n: str | None = None,
    ss: str | None = None,
    kind: str = "mean",
    method: str = "reml",
    tau2: float | None = None,
    sigma2: float | None = None,
    level: float = 0.95,
    min_group_size: int | None = None,
) -> pd.DataFrame:
    """Shrink unit means toward the grand mean (random-intercept BLUPs).

    Parameters
    ----------
    data
        Either individual answers (one row per respondent; pandas or Ibis, the
        group-by then runs in the engine), or, when ``n`` is given, one row per
        unit with its mean in ``value``, its count in ``n`` and its within-unit
        sum of squares in ``ss``.
    value
        Answer column, or the unit mean column when ``n`` is given. For
        ``kind="nps"`` individual answers are 0-10 and each counts +100
        (promoter), 0 (passive) or -100 (detractor); unit values are in NPS points.
    group
        Unit identifier column.
    n, ss
        Columns of per-unit counts and within-unit sums of squared deviations.
        ``ss`` may be left out only when both ``tau2`` and ``sigma2`` are given.
    kind
        ``"mean"`` or ``"nps"``.
    method
        How the variance components are estimated: ``"reml"`` (as
        ``statsmodels`` MixedLM and ``lme4``) or ``"moments"`` (one-way ANOVA).
    tau2, sigma2
        Between-unit and within-unit variance to use instead of estimating them;
        give both or neither.
    level
        Level of the intervals.
    min_group_size
        When given (e.g. 5 for employee answers; not below 3), units with fewer
        answers are marked suppressed and their figures blanked. Primary
        suppression only: pass employee rows through :func:`excx.privacy.gate`
        for the complementary suppression before publishing them.

    Returns
    -------
    pandas.DataFrame
        One row per unit, best first: the ``group`` column, ``n``, ``mean`` (raw
        unit mean), ``value`` (shrunk), ``weight`` (shrinkage factor B_j),
        ``ci_low``, ``ci_high``, ``rank`` (1 = highest shrunk value),
        ``grand_mean``, ``tau2``, ``sigma2``, ``suppressed`` and ``reason``.

    Notes
    -----
    Model y_ij = mu + u_j + e_ij, u_j ~ N(0, tau2), e_ij ~ N(0, sigma2). With
    w_j = 1 / (tau2 + sigma2 / n_j), the grand mean is the GLS estimate
    mu = sum w_j ybar_j / sum w_j, and

        B_j = tau2 / (tau2 + sigma2 / n_j),  shrunk_j = mu + B_j (ybar_j - mu).

    The interval is shrunk_j +- z sqrt(B_j sigma2 / n_j + (1 - B_j)^2 / sum w),
    the prediction error variance given the variance components (their own
    uncertainty is ignored, so intervals are slightly narrow for few units).
    REML maximises the restricted likelihood of the one-way model, which depends
    on the data only through n_j, ybar_j and ss_j; sigma2 is profiled out and
    gamma = tau2 / sigma2 >= 0 is found by a grid and Brent's method. ``moments``
    uses sigma2 = MSW and tau2 = max(0, (MSB - MSW) / k0). A tau2 of 0 shrinks
    every unit to the grand mean.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"unit": list("aaabbbbcc"),
    ...                         "score": [4, 5, 5, 2, 3, 3, 2, 4, 3]})
    >>> shrink(answers, value="score", group="unit")[["unit", "mean", "value"]]
      unit      mean     value
    0    a  4.666667  4.556346
    1    c  3.500000  3.506690
    2    b  2.500000  2.579395
    """
    if kind not in _KINDS:
        raise InputError(f"kind: one of {_KINDS}, got {kind!r}")
    if method not in _METHODS:
        raise InputError(f"method: one of {_METHODS}, got {method!r}")
    if (tau2 is None) != (sigma2 is None):
        raise InputError("tau2, sigma2: give both variance components or neither")
    if not 0 < level < 1:
        raise InputError(f"level: must be between 0 and 1, got {level}")

    groups = _unit_statistics(data, value=value, group=group, n=n, ss=ss, kind=kind)
    _require_units(len(groups), "shrink")
    if tau2 is None:
        components = variance_components(groups, method=method)
    else:
        if tau2 < 0 or sigma2 < 0 or tau2 + sigma2 == 0:
            raise InputError(
                f"tau2, sigma2: non-negative, not both 0; got {tau2}, {sigma2}"
            )
        components = {"tau2": float(tau2), "sigma2": float(sigma2)}
    result = _blups(groups, components, level=level, kind=kind)
    return _finish(result, group=group, min_group_size=min_group_size)


def _unit_statistics(
    data: Any, *, value: str, group: str, n: str | None, ss: str | None, kind: str
) -> pd.DataFrame:
    """Per-unit n, mean and ss, from answers or from given columns."""
    if n is not None:
        _require_columns(
            data, {"value": value, "group": group, "n": n, **({"ss": ss} if ss else {})}
        )
        groups = pd.DataFrame(
            {
                "group": data[group].to_numpy(),
                "n": data[n].to_numpy(dtype=float),
                "mean": data[value].to_numpy(dtype=float),
                "ss": data[ss].to_numpy(dtype=float) if ss else np.nan,
            }
        )
        if groups[["n", "mean"]].isna().any().any() or (groups["n"] < 1).any():
            raise InputError(
                f"n={n!r}, value={value!r}: every unit needs a count >= 1 and a mean"
            )
        return groups
    _require_columns(data, {"value": value, "group": group})
    if kind == "nps":
        data = _nps_scores(data, value)
    return group_moments(data, value=value, group=group)


def _nps_scores(data: Any, value: str) -> Any:
    """Recode 0-10 answers to +100 / 0 / -100 (DESIGN.md, metric definitions)."""
    low, high = SCORE_RANGES["nps"]
    if isinstance(data, pd.DataFrame):
        answers = data[value]
        outside = answers.notna() & ~answers.between(low, high)
        if outside.any():
            row = outside.to_numpy().nonzero()[0][0]
            raise InputError(
                f"{value}: NPS answers are {low}..{high}, row {row} "
                f"has {answers.iloc[row]!r}"
            )
        score = np.select(
            [answers >= PROMOTER_MIN, answers <= DETRACTOR_MAX], [100.0, -100.0], 0.0
        )
        return data.assign(**{value: np.where(answers.isna(), np.nan, score)})
    column = data[value]
    score = (column >= PROMOTER_MIN).ifelse(
        100.0, (column <= DETRACTOR_MAX).ifelse(-100.0, 0.0)
    )
    return data.mutate(**{value: score})


def variance_components(groups: pd.DataFrame, *, method: str = "reml") -> dict:
    """Between-unit (tau2) and within-unit (sigma2) variance from unit statistics.

    Parameters
    ----------
    groups
        One row per unit with columns ``n``, ``mean`` and ``ss`` (as
        :func:`excx.linkage.group_moments` returns).
    method
        ``"reml"`` or ``"moments"``; see :func:`shrink`.

    Returns
    -------
    dict
        ``{"tau2": float, "sigma2": float}``.

    Examples
    --------
    >>> import pandas as pd
    >>> groups = pd.DataFrame({"n": [3, 4, 2], "mean": [4.5, 2.5, 3.5],
    ...                        "ss": [0.5, 1.0, 0.5]})
    >>> {k: round(v, 4) for k, v in variance_components(groups).items()}
    {'tau2': 0.9256, 'sigma2': 0.331}
    """
    n = groups["n"].to_numpy(dtype=float)
    mean = groups["mean"].to_numpy(dtype=float)
    ss = groups["ss"].to_numpy(dtype=float)
    if np.isnan(ss).any():
        raise InputError(
            "ss: within-unit sums of squares are needed to estimate "
            "the variance components (or pass tau2 and sigma2)"
        )
    total, n_units, ssw = n.sum(), len(n), ss.sum()
    if total - n_units <= 0:
        raise InputError(
            "data: every unit has a single answer; the within-unit "
            "variance cannot be estimated (pass tau2 and sigma2)"
        )
    grand = (n * mean).sum() / total
    msb = (n * (mean - grand) ** 2).sum() / (n_units - 1)
    if ssw == 0:
        logger.info("shrink: no variation within units; no shrinkage applied")
        return {"tau2": float(np.var(mean, ddof=1)), "sigma2": 0.0}
    if method == "moments":
        msw = ssw / (total - n_units)
        k0 = (total - (n**2).sum() / total) / (n_units - 1)
        return {"tau2": max(0.0, (msb - msw) / k0), "sigma2": msw}
    return _reml(n, mean, ssw)


def _reml(n: np.ndarray, mean: np.ndarray, ssw: float) -> dict:
    """Restricted ML of the one-way random-effects model, sigma2 profiled out."""
    total = n.sum()

    def profile(gamma: float) -> tuple[float, float]:
        weight = n / (1 + n * gamma)
        mu = (weight * mean).sum() / weight.sum()
        sigma2 = (ssw + (weight * (mean - mu) ** 2).sum()) / (total - 1)
        deviance = (
            (total - 1) * np.log(sigma2)
            + np.log1p(n * gamma).sum()
            + np.log(weight.sum())
        )
        return deviance, sigma2

    grid = np.concatenate([[0.0], np.logspace(-8, 6, 57)])
    deviances = [profile(g)[0] for g in grid]
    best = int(np.argmin(deviances))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    if best == 0 or low == 0:
        found = optimize.minimize_scalar(
            lambda g: profile(g)[0],
            bounds=(0, high),
            method="bounded",
            options={"xatol": high * 1e-10},
        )
        gamma = found.x if found.fun < deviances[0] else 0.0
    else:
        found = optimize.minimize_scalar(
            lambda t: profile(np.exp(t))[0],
            bounds=(np.log(low), np.log(high)),
            method="bounded",
            options={"xatol": 1e-10},
        )
        gamma = float(np.exp(found.x))
    sigma2 = profile(gamma)[1]
    return {"tau2": float(gamma * sigma2), "sigma2": float(sigma2)}


def _blups(
    groups: pd.DataFrame, components: dict, *, level: float, kind: str
) -> pd.DataFrame:
    n = groups["n"].to_numpy(dtype=float)
    mean = groups["mean"].to_numpy(dtype=float)
    tau2, sigma2 = components["tau2"], components["sigma2"]
    sampling = sigma2 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(tau2 + sampling > 0, tau2 / (tau2 + sampling), np.nan)
        weight = 1 / (tau2 + sampling)
    if np.isinf(weight).any():  # sigma2 = 0 and tau2 = 0: nothing varies
        grand, error = float(mean[0]), np.zeros_like(n)
        reason = "no variation in answers: nothing to shrink"
    else:
        grand = float((weight * mean).sum() / weight.sum())
        error = np.sqrt(factor * sampling + (1 - factor) ** 2 / weight.sum())
        reason = ""
    shrunk = np.where(np.isnan(factor), mean, grand + factor * (mean - grand))
    half = stats.norm.ppf(1 - (1 - level) / 2) * error
    bounds = (-100.0, 100.0) if kind == "nps" else (-np.inf, np.inf)
    return pd.DataFrame(
        {
            "group": groups["group"].to_numpy(),
            "n": n.astype("int64"),
            "mean": mean,
            "value": shrunk,
            "weight": factor,
            "ci_low": np.clip(shrunk - half, *bounds),
            "ci_high": np.clip(shrunk + half, *bounds),
            "grand_mean": grand,
            "tau2": tau2,
            "sigma2": sigma2,
            "reason": reason,
        }
    )


def _finish(
    result: pd.DataFrame, *, group: str, min_group_size: int | None
) -> pd.DataFrame:
    result = result.sort_values("value", ascending=False, kind="stable")
    result["rank"] = pd.array(np.arange(1, len(result) + 1), dtype="Int64")
    result["suppressed"] = False
    if min_group_size is not None:
        min_group_size = _check_min_group_size(min_group_size)
        hidden = result["n"] < min_group_size
        result.loc[hidden, ["mean", "value", "ci_low", "ci_high"]] = np.nan
        result.loc[hidden, "rank"] = pd.NA
        result["suppressed"] = hidden
        result.loc[hidden, "reason"] = (
            f"fewer than {min_group_size} respondents: suppressed"
        )
    columns = [
        "group",
        "n",
        "mean",
        "value",
        "weight",
        "ci_low",
        "ci_high",
        "rank",
        "grand_mean",
        "tau2",
        "sigma2",
        "suppressed",
        "reason",
    ]
    return result[columns].rename(columns={"group": group}).reset_index(drop=True)
