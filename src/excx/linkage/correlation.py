"""Unit-level correlation of employee and customer scores, with honest intervals.

One correlation, three views of its uncertainty: the Fisher z interval over the
units, a cluster bootstrap that resamples whole units (periods of a unit stay
together), and the correction for the unreliability of unit means
(disattenuation with ICC(2) values).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from excx.errors import InputError
from excx.linkage._bootstrap import _bootstrap
from excx.linkage._checks import _require_columns

__all__ = ["correlation"]

logger = logging.getLogger("excx")

_METHODS = ("pearson", "spearman")
_COLUMNS = [
    "statistic",
    "method",
    "interval",
    "n",
    "n_units",
    "value",
    "ci_low",
    "ci_high",
    "p_value",
    "reason",
]


def correlation(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    weights: str | None = None,
    unit: str | None = None,
    method: str = "pearson",
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    reliability_x: float | None = None,
    reliability_y: float | None = None,
) -> pd.DataFrame:
    """Correlation of two unit scores with Fisher and cluster-bootstrap intervals.

    Parameters
    ----------
    data
        The unit panel: one row per unit (or unit x period). Rows with a missing
        ``x``, ``y`` or weight are left out.
    x, y
        Columns to correlate, e.g. unit eNPS and unit NPS.
    weights
        Optional column of non-negative weights (e.g. respondents per unit) for a
        weighted Pearson correlation. Not accepted with ``method="spearman"``.
    unit
        Column identifying the unit. Rows of the same unit are resampled together
        by the bootstrap; by default every row is its own unit.
    method
        ``"pearson"`` or ``"spearman"`` (Pearson correlation of average ranks).
    level
        Confidence level of the intervals.
    n_boot
        Bootstrap resamples of units; 0 leaves out the bootstrap rows.
    seed
        Seed of the bootstrap's random generator.
    reliability_x, reliability_y
        Reliabilities of the unit means in (0, 1], usually their ICC(2)
        (:func:`excx.linkage.icc`). When one is given, disattenuated rows follow;
        a missing one counts as 1.

    Returns
    -------
    pandas.DataFrame
        Rows ``statistic`` = ``"r"`` (then ``"r_disattenuated"``) crossed with
        ``interval`` = ``"fisher"`` and ``"cluster_bootstrap"``. Columns:
        ``statistic``, ``method``, ``interval``, ``n`` (rows used), ``n_units``,
        ``value``, ``ci_low``, ``ci_high``, ``p_value`` and ``reason`` (why a
        figure is missing; empty otherwise).

    Raises
    ------
    InputError
        For a missing column, fewer than 3 units, negative weights, an unknown
        method or a reliability outside (0, 1].

    Notes
    -----
    Weighted Pearson: r = sum w (x - xbar_w)(y - ybar_w) / sqrt(sum w (x - xbar_w)^2
    sum w (y - ybar_w)^2), with weighted means xbar_w = sum w x / sum w.

    Fisher interval: tanh(atanh(r) +- z_{1-a/2} se) with se = 1 / sqrt(n_e - 3)
    for Pearson and se = sqrt((1 + r^2 / 2) / (n_e - 3)) for Spearman (Bonett &
    Wright 2000). n_e is the number of units J (conservative when units repeat over
    periods); with weights it is Kish's effective size (sum w)^2 / sum w^2, at most
    J. The p-value tests rho = 0 with t = r sqrt((n_e - 2) / (1 - r^2)) on n_e - 2
    degrees of freedom (as ``scipy.stats.pearsonr`` and ``spearmanr`` do).

    Cluster bootstrap: B draws of J units with replacement, all rows of a drawn unit
    included; percentile interval; p-value = 2 min(P*(r <= 0), P*(r >= 0)), at
    most 1. Draws in which x or y is constant are left out (logged).

    Disattenuation (Spearman 1904): r / sqrt(rel_x rel_y). The interval endpoints
    are divided by the same factor; all three figures are then clipped to [-1, 1],
    so a corrected value of exactly +-1 means the correction overshoots. The
    p-value is that of the raw correlation: the correction does not change whether
    rho = 0.

    Examples
    --------
    >>> import pandas as pd
    >>> panel = pd.DataFrame({"enps": [10, 25, 5, 40, 30, -5, 15, 20],
    ...                       "nps": [30, 42, 20, 55, 38, 22, 35, 31]})
    >>> result = correlation(panel, x="enps", y="nps", n_boot=500)
    >>> result[["statistic", "interval", "value"]].round(3)
      statistic           interval  value
    0         r             fisher  0.924
    1         r  cluster_bootstrap  0.924
    """
    frame, codes, n_units = _prepare(data, x=x, y=y, weights=weights, unit=unit)
    if method not in _METHODS:
        raise InputError(f"method: one of {_METHODS}, got {method!r}")
    if method == "spearman" and weights is not None:
        raise InputError("weights: only accepted with method='pearson'")
    if not 0 < level < 1:
        raise InputError(f"level: must be between 0 and 1, got {level}")
    if int(n_boot) != n_boot or n_boot < 0:
        raise InputError(f"n_boot: a whole number >= 0, got {n_boot!r}")
    attenuation = _attenuation(reliability_x, reliability_y)

    x_values = frame[x].to_numpy(dtype=float)
    y_values = frame[y].to_numpy(dtype=float)
    w_values = None if weights is None else frame[weights].to_numpy(dtype=float)
    base = {"method": method, "n": len(frame), "n_units": n_units}

    constant = [c for c, v in ((x, x_values), (y, y_values)) if np.ptp(v) == 0]
    if constant:
        reason = f"{constant[0]} is constant: correlation undefined"
        rows = [
            _row("r", interval, base, reason=reason) for interval in _intervals(n_boot)
        ]
        return pd.DataFrame(rows, columns=_COLUMNS)

    if method == "spearman":
        x_values, y_values = stats.rankdata(x_values), stats.rankdata(y_values)
    r = _weighted_pearson(x_values, y_values, w_values)
    n_effective = _effective_size(w_values, n_units)
    rows = [_fisher_row(r, n_effective, method, level, base)]
    if n_boot:
        draws = _bootstrap(
            x_values,
            y_values,
            w_values,
            codes,
            n_units,
            method=method,
            n_boot=int(n_boot),
            seed=seed,
        )
        rows.append(_bootstrap_row(r, draws, level, base))
    if attenuation is not None:
        rows += [_disattenuated(row, attenuation) for row in list(rows)]
    return pd.DataFrame(rows, columns=_COLUMNS)


def _prepare(
    data: Any, *, x: str, y: str, weights: str | None, unit: str | None
) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Validate columns, drop incomplete rows and code the units 0..J-1."""
    if not isinstance(data, pd.DataFrame):
        raise InputError(
            f"data: expected a pandas DataFrame, got {type(data).__name__}"
        )
    named = {"x": x, "y": y, "weights": weights, "unit": unit}
    named = {argument: column for argument, column in named.items() if column}
    _require_columns(data, named)
    used = list(dict.fromkeys(named.values()))
    for argument in ("x", "y", "weights"):
        column = named.get(argument)
        if column and not pd.api.types.is_numeric_dtype(data[column]):
            raise InputError(
                f"{argument}={column!r}: needs numbers, got {data[column].dtype}"
            )

    frame = data[used].dropna()
    if len(frame) < len(data):
        logger.info(
            "correlation: %d of %d rows with missing values left out",
            len(data) - len(frame),
            len(data),
        )
    if weights and (frame[weights] < 0).any():
        row = frame.index[(frame[weights] < 0).to_numpy()][0]
        raise InputError(
            f"weights={weights!r}: must be >= 0, row {row} has "
            f"{frame.loc[row, weights]}"
        )
    if weights and frame[weights].sum() <= 0:
        raise InputError(f"weights={weights!r}: at least one weight must be > 0")
    if unit:
        codes, uniques = pd.factorize(frame[unit])
        n_units = len(uniques)
    else:
        codes, n_units = np.arange(len(frame)), len(frame)
    if n_units < 3:
        raise InputError(
            f"data: a correlation needs at least 3 units with x, y"
            f"{' and weights' if weights else ''}, got {n_units}"
        )
    return frame, codes, n_units


def _attenuation(reliability_x: float | None, reliability_y: float | None):
    if reliability_x is None and reliability_y is None:
        return None
    for name, value in (
        ("reliability_x", reliability_x),
        ("reliability_y", reliability_y),
    ):
        if value is not None and not 0 < value <= 1:
            raise InputError(f"{name}: a reliability in (0, 1], got {value}")
    return float(np.sqrt((reliability_x or 1.0) * (reliability_y or 1.0)))


def _intervals(n_boot: int) -> list[str]:
    return ["fisher", "cluster_bootstrap"] if n_boot else ["fisher"]


def _row(statistic: str, interval: str, base: dict, **figures: Any) -> dict:
    row = {
        "statistic": statistic,
        "interval": interval,
        **base,
        "value": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "p_value": np.nan,
        "reason": "",
    }
    row.update(figures)
    return row


def _weighted_pearson(x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> float:
    w = np.ones_like(x) if w is None else w
    dx = x - np.average(x, weights=w)
    dy = y - np.average(y, weights=w)
    cross = np.sum(w * dx * dy)
    return float(
        np.clip(cross / np.sqrt(np.sum(w * dx**2) * np.sum(w * dy**2)), -1.0, 1.0)
    )


def _effective_size(w: np.ndarray | None, n_units: int) -> float:
    if w is None:
        return float(n_units)
    return float(min(w.sum() ** 2 / np.sum(w**2), n_units))


def _fisher_row(r: float, n_e: float, method: str, level: float, base: dict) -> dict:
    if n_e <= 3:
        return _row(
            "r",
            "fisher",
            base,
            value=r,
            reason=f"effective size {n_e:.1f} <= 3: no Fisher interval",
        )
    t_value = r * np.sqrt((n_e - 2) / max(1 - r**2, 1e-300))
    p_value = float(2 * stats.t.sf(abs(t_value), n_e - 2))
    spread = np.sqrt((1 + r**2 / 2) if method == "spearman" else 1.0)
    half = stats.norm.ppf(1 - (1 - level) / 2) * spread / np.sqrt(n_e - 3)
    z = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))
    return _row(
        "r",
        "fisher",
        base,
        value=r,
        ci_low=float(np.tanh(z - half)),
        ci_high=float(np.tanh(z + half)),
        p_value=p_value,
    )


def _bootstrap_row(r: float, draws: np.ndarray, level: float, base: dict) -> dict:
    valid = draws[~np.isnan(draws)]
    if len(valid) < len(draws):
        logger.info(
            "correlation: %d of %d bootstrap resamples had a constant "
            "x or y and were left out",
            len(draws) - len(valid),
            len(draws),
        )
    if len(valid) < len(draws) / 2:
        return _row(
            "r",
            "cluster_bootstrap",
            base,
            value=r,
            reason=f"only {len(valid)} of {len(draws)} resamples had a "
            "defined correlation",
        )
    tail = (1 - level) / 2
    low, high = np.quantile(valid, [tail, 1 - tail])
    p_value = min(1.0, 2 * min(np.mean(valid <= 0), np.mean(valid >= 0)))
    return _row(
        "r",
        "cluster_bootstrap",
        base,
        value=r,
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(p_value),
    )


def _disattenuated(row: dict, attenuation: float) -> dict:
    corrected = dict(row, statistic="r_disattenuated")
    for column in ("value", "ci_low", "ci_high"):
        corrected[column] = float(np.clip(row[column] / attenuation, -1.0, 1.0))
    return corrected
