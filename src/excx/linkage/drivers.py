"""Key drivers: how much of an outcome's explained variance each driver carries.

Regression coefficients of correlated drivers (courtesy, competence and speed all
move together) are unstable and do not add up. Johnson's (2000) relative weights
and the Shapley (LMG) decomposition both split the model R^2 into non-negative
shares that do; bootstrap intervals say how firmly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd

from excx.errors import InputError
from excx.linkage._checks import _require_columns

__all__ = ["key_drivers"]

logger = logging.getLogger("excx")

_METHODS = ("relative_weights", "shapley")
_MAX_SHAPLEY_DRIVERS = 10
# Correlation matrices with an eigenvalue below this are treated as singular.
_SINGULAR = 1e-10


def key_drivers(
    data: pd.DataFrame,
    *,
    outcome: str,
    drivers: Sequence[str],
    method: str = "relative_weights",
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Split the R^2 of a linear model of ``outcome`` among its ``drivers``.

    Parameters
    ----------
    data
        One row per observation (a unit, or a respondent); rows with a missing
        outcome or driver are left out.
    outcome
        Column to explain, e.g. unit NPS.
    drivers
        Columns that explain it, e.g. customer item scores (at most 10 for
        ``"shapley"``).
    method
        ``"relative_weights"`` (Johnson 2000) or ``"shapley"`` (Shapley value of
        R^2, also called LMG; Lindeman, Merenda & Gold 1980).
    n_boot
        Bootstrap resamples of rows for the intervals; 0 leaves them out (NaN,
        with the reason in ``reason``).
    seed
        Seed of the bootstrap's random generator.
    level
        Level of the percentile intervals.

    Returns
    -------
    pandas.DataFrame
        One row per driver, largest weight first, with columns ``driver``,
        ``method``, ``n`` (rows used), ``weight`` (its part of R^2), ``share``
        (weight / R^2), ``ci_low`` and ``ci_high`` (for ``weight``), ``r2``
        (the model R^2, the same on every row) and ``reason``.

    Raises
    ------
    InputError
        For a missing or constant column, perfectly collinear drivers, too few
        rows (at least drivers + 2 are needed) or too many drivers for Shapley.

    Notes
    -----
    Both methods use only the correlation matrix R of outcome and drivers, so the
    weights do not depend on the drivers' units, and both sum to the model R^2
    = r_xy' R_xx^-1 r_xy.

    Relative weights: with R_xx = Q diag(lambda) Q', let
    L = Q diag(sqrt(lambda)) Q' (the correlations of the drivers with their
    closest orthonormal counterparts), beta = L^-1 r_xy; then
    weight_j = sum_k L_jk^2 beta_k^2.

    Shapley: with R^2(S) the R^2 of the drivers in S, weight_j = sum over S not
    containing j of |S|! (p - |S| - 1)! / p! [R^2(S + j) - R^2(S)], computed over
    all 2^p subsets.

    Intervals: B resamples of rows; each resample's correlation matrix comes from
    one matrix product of the resample counts with the rows' cross-products, the
    weights from batched eigen- or linear solves. Resamples in which a column is
    constant or the drivers collinear are left out (logged). The intervals are
    percentile intervals; they treat rows as independent.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> items = pd.DataFrame(rng.normal(size=(200, 3)),
    ...                      columns=["courtesy", "competence", "speed"])
    >>> items["nps"] = items @ [3.0, 2.0, 1.0] + rng.normal(size=200) * 3
    >>> result = key_drivers(items, outcome="nps",
    ...                      drivers=["courtesy", "competence", "speed"], n_boot=200)
    >>> result[["driver", "share"]].round(2)
           driver  share
    0    courtesy   0.66
    1  competence   0.25
    2       speed   0.09
    """
    drivers = list(drivers)
    matrix = _prepare(data, outcome=outcome, drivers=drivers, method=method)
    if int(n_boot) != n_boot or n_boot < 0:
        raise InputError(f"n_boot: a whole number >= 0, got {n_boot!r}")
    if not 0 < level < 1:
        raise InputError(f"level: must be between 0 and 1, got {level}")

    decompose = _relative_weights if method == "relative_weights" else _shapley
    weights = decompose(np.corrcoef(matrix, rowvar=False)[None])[0]
    r2 = float(weights.sum())
    result = pd.DataFrame(
        {
            "driver": drivers,
            "method": method,
            "n": len(matrix),
            "weight": weights,
            "share": weights / r2 if r2 > 0 else np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "r2": r2,
            "reason": "" if n_boot else "n_boot = 0: no interval",
        }
    )
    if r2 <= 0:
        result["reason"] = "the drivers explain nothing (R^2 = 0): no shares"
    if n_boot:
        draws = decompose(_bootstrap_correlations(matrix, int(n_boot), seed))
        tail = (1 - level) / 2
        bounds = np.nanquantile(draws, [tail, 1 - tail], axis=0)
        result["ci_low"], result["ci_high"] = bounds[0], bounds[1]
    ordered = result.sort_values("weight", ascending=False, kind="stable")
    return ordered.reset_index(drop=True)


def _prepare(
    data: pd.DataFrame, *, outcome: str, drivers: list[str], method: str
) -> np.ndarray:
    """Validate the arguments; return the complete rows as [outcome, drivers]."""
    _check_arguments(data, outcome=outcome, drivers=drivers, method=method)
    columns = [outcome, *drivers]
    for column in columns:
        if not pd.api.types.is_numeric_dtype(data[column]):
            raise InputError(f"{column}: needs numbers, got {data[column].dtype}")

    complete = data[columns].dropna()
    if len(complete) < len(data):
        logger.info(
            "key_drivers: %d of %d rows with missing values left out",
            len(data) - len(complete),
            len(data),
        )
    if len(complete) < len(drivers) + 2:
        raise InputError(
            f"data: {len(drivers)} drivers need at least {len(drivers) + 2} complete "
            f"rows, got {len(complete)}"
        )
    matrix = complete.to_numpy(dtype=float)
    constant = [
        c
        for c, spread in zip(columns, np.ptp(matrix, axis=0), strict=True)
        if spread == 0
    ]
    if constant:
        raise InputError(
            f"{constant[0]}: is constant; it cannot explain or be explained"
        )
    r_xx = np.atleast_2d(np.corrcoef(matrix[:, 1:], rowvar=False))
    if np.linalg.eigvalsh(r_xx).min() < _SINGULAR:
        raise InputError(f"drivers: {drivers} are perfectly collinear; drop one")
    return matrix


def _check_arguments(
    data: pd.DataFrame, *, outcome: str, drivers: list[str], method: str
) -> None:
    if method not in _METHODS:
        raise InputError(f"method: one of {_METHODS}, got {method!r}")
    if not drivers:
        raise InputError("drivers: at least one driver column, got none")
    if method == "shapley" and len(drivers) > _MAX_SHAPLEY_DRIVERS:
        raise InputError(
            f"drivers: method='shapley' takes at most {_MAX_SHAPLEY_DRIVERS} "
            f"drivers (2^p subsets), got {len(drivers)}; use 'relative_weights'"
        )
    if not isinstance(data, pd.DataFrame):
        raise InputError(
            f"data: expected a pandas DataFrame, got {type(data).__name__}"
        )
    if outcome in drivers or len(set(drivers)) < len(drivers):
        raise InputError(
            f"drivers: distinct columns other than the outcome, got {drivers}"
        )
    _require_columns(
        data,
        {"outcome": outcome, **{f"drivers[{i}]": d for i, d in enumerate(drivers)}},
    )


def _bootstrap_correlations(matrix: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Correlation matrices of n_boot row resamples, shape (B, q, q)."""
    n_rows, q = matrix.shape
    z = (matrix - matrix.mean(axis=0)) / matrix.std(axis=0)
    draws = np.random.default_rng(seed).integers(0, n_rows, (n_boot, n_rows))
    flat = (np.arange(n_boot)[:, None] * n_rows + draws).ravel()
    counts = np.bincount(flat, minlength=n_boot * n_rows).reshape(n_boot, n_rows)

    first = counts @ z / n_rows
    cross = (counts @ (z[:, :, None] * z[:, None, :]).reshape(n_rows, q * q)) / n_rows
    covariance = cross.reshape(n_boot, q, q) - first[:, :, None] * first[:, None, :]
    spread = np.sqrt(np.clip(np.diagonal(covariance, axis1=1, axis2=2), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = covariance / (spread[:, :, None] * spread[:, None, :])
    bad = (spread < 1e-8).any(axis=1)
    drivers = correlation[:, 1:, 1:]
    bad |= (
        np.linalg.eigvalsh(np.where(bad[:, None, None], np.eye(q - 1), drivers)).min(
            axis=1
        )
        < _SINGULAR
    )
    if bad.any():
        logger.info(
            "key_drivers: %d of %d resamples had a constant or collinear column "
            "and were left out",
            int(bad.sum()),
            n_boot,
        )
    correlation[bad] = np.nan
    return correlation


def _relative_weights(correlation: np.ndarray) -> np.ndarray:
    """Johnson's relative weights of a batch of correlation matrices (B, q, q)."""
    weights = np.full((len(correlation), correlation.shape[1] - 1), np.nan)
    valid = ~np.isnan(correlation).any(axis=(1, 2))
    r_xx, r_xy = correlation[valid, 1:, 1:], correlation[valid, 1:, 0]
    eigenvalues, vectors = np.linalg.eigh(r_xx)
    root = vectors * np.sqrt(eigenvalues)[:, None, :] @ np.swapaxes(vectors, 1, 2)
    beta = np.linalg.solve(root, r_xy[:, :, None])[:, :, 0]
    weights[valid] = np.einsum("bjk,bk->bj", root**2, beta**2)
    return weights


def _subset_r2(correlation: np.ndarray, subset: tuple[int, ...]) -> np.ndarray:
    """R^2 of the drivers in ``subset`` for every matrix of the batch."""
    if not subset:
        return np.zeros(len(correlation))
    index = np.array(subset) + 1
    r_ss = correlation[:, index[:, None], index[None, :]]
    r_sy = correlation[:, index, 0]
    solved = np.linalg.solve(r_ss, r_sy[:, :, None])[:, :, 0]
    return np.einsum("bk,bk->b", r_sy, solved)


def _shapley(correlation: np.ndarray) -> np.ndarray:
    """Shapley decomposition of R^2 over all subsets, for a batch (B, q, q)."""
    p = correlation.shape[1] - 1
    weights = np.full((len(correlation), p), np.nan)
    valid = ~np.isnan(correlation).any(axis=(1, 2))
    batch = correlation[valid]
    r2 = {
        subset: _subset_r2(batch, subset)
        for size in range(p + 1)
        for subset in combinations(range(p), size)
    }
    contribution = np.zeros((len(batch), p))
    for subset, r2_without in r2.items():
        if len(subset) == p:
            continue
        coefficient = (
            factorial(len(subset)) * factorial(p - len(subset) - 1) / factorial(p)
        )
        for driver in set(range(p)) - set(subset):
            with_driver = tuple(sorted((*subset, driver)))
            contribution[:, driver] += coefficient * (r2[with_driver] - r2_without)
    weights[valid] = contribution
    return weights
