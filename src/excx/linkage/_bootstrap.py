"""Vectorised cluster bootstrap of a correlation.

Whole units are resampled with replacement. A resample is represented by how often
each unit is drawn, so Pearson draws are weighted sums of per-unit cross-products
and Spearman draws use count-weighted mid-ranks: no per-draw refit or sort.
"""

from __future__ import annotations

import numpy as np

# Spearman rows are ranked in chunks of about this many cells to bound memory.
_CHUNK_CELLS = 2_000_000


def _resample_counts(n_units: int, n_boot: int, seed: int) -> np.ndarray:
    """How often each unit is drawn in each of n_boot resamples: (B, J)."""
    draws = np.random.default_rng(seed).integers(0, n_units, (n_boot, n_units))
    flat = (np.arange(n_boot)[:, None] * n_units + draws).ravel()
    return np.bincount(flat, minlength=n_boot * n_units).reshape(n_boot, n_units)


def _bootstrap(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    codes: np.ndarray,
    n_units: int,
    *,
    method: str,
    n_boot: int,
    seed: int,
) -> np.ndarray:
    """Correlation in each cluster-bootstrap resample (NaN where undefined)."""
    if method == "spearman":
        return _bootstrap_ranks(x, y, codes, n_units, n_boot=n_boot, seed=seed)
    w = np.ones_like(x) if w is None else w
    dx, dy = x - np.average(x, weights=w), y - np.average(y, weights=w)
    sums = np.column_stack([w, w * dx, w * dy, w * dx * dx, w * dy * dy, w * dx * dy])
    per_unit = np.zeros((n_units, 6))
    np.add.at(per_unit, codes, sums)

    total = _resample_counts(n_units, n_boot, seed) @ per_unit
    sw, sx, sy, sxx, syy, sxy = total.T
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = sxy - sx * sy / sw
        var_x, var_y = sxx - sx**2 / sw, syy - sy**2 / sw
        r = cross / np.sqrt(var_x * var_y)
    scale = np.sqrt(per_unit[:, 3].sum() * per_unit[:, 4].sum())
    degenerate = (var_x <= 1e-12 * scale) | (var_y <= 1e-12 * scale)
    return np.where(degenerate, np.nan, np.clip(r, -1, 1))


def _bootstrap_ranks(
    x: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    n_units: int,
    *,
    n_boot: int,
    seed: int,
) -> np.ndarray:
    """Spearman in each resample, from how often each row is drawn.

    A resample is the multiset of rows with multiplicities ``counts`` (B, n). The
    mid-rank of a value in it is the number of drawn rows with smaller values plus
    (its drawn copies + 1) / 2, a cumulative sum over the sorted distinct values;
    Spearman is then the count-weighted Pearson correlation of the mid-ranks. No
    per-draw sort is needed.
    """
    unit_counts = _resample_counts(n_units, n_boot, seed)
    chunk = max(1, _CHUNK_CELLS // len(x))
    result = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        counts = unit_counts[start : start + chunk][:, codes].astype(float)
        rank_x, rank_y = _midranks(x, counts), _midranks(y, counts)
        total = counts.sum(axis=1, keepdims=True)
        dx = rank_x - (counts * rank_x).sum(axis=1, keepdims=True) / total
        dy = rank_y - (counts * rank_y).sum(axis=1, keepdims=True) / total
        with np.errstate(divide="ignore", invalid="ignore"):
            result[start : start + chunk] = (counts * dx * dy).sum(axis=1) / np.sqrt(
                (counts * dx**2).sum(axis=1) * (counts * dy**2).sum(axis=1)
            )
    return np.where(np.isfinite(result), np.clip(result, -1, 1), np.nan)


def _midranks(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mid-rank of every row's value within each resample, shape of ``counts``."""
    distinct, position = np.unique(values, return_inverse=True)
    order = np.argsort(position, kind="stable")
    starts = np.searchsorted(position[order], np.arange(len(distinct)))
    per_value = np.add.reduceat(counts[:, order], starts, axis=1)
    below = np.cumsum(per_value, axis=1) - per_value
    return (below + (per_value + 1) / 2)[:, position]
