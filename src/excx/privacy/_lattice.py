"""Solving one call: its level and every coarser level another call could publish.

A level is a grain per dimension (unit / region / all, month / quarter / year /
all, role / all, ...). Coarser levels are solved first, from the cells' n summed
up, so a call at any level makes the very choices the coarser calls make.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from excx.errors import InputError
from excx.privacy._sets import (
    COARSER,
    DIMENSIONS,
    PERIOD_GRAINS,
    lineage_of,
    sibling_sets,
    unit_edges,
)


@dataclass
class _Lattice:
    """What every level of one call shares: units, thresholds and solved levels."""

    units: pd.DataFrame
    thresholds: tuple[int, ...]
    rollup: bool
    lineage: pd.DataFrame | None = None
    edges: pd.DataFrame | None = None
    solved: dict = field(default_factory=dict)


def suppression(
    cells: pd.DataFrame,
    *,
    by: Sequence[str],
    units: pd.DataFrame,
    period: str | None,
    thresholds: tuple[int, ...],
    rollup: bool,
) -> np.ndarray:
    """Return which rows of ``cells`` to hide (after the last threshold)."""
    by = _check_call(cells, by, period)
    # region follows unit_id when both are given; keys are in DIMENSIONS order so
    # that the same level reached from two calls breaks ties the same way.
    columns = [
        c for c in DIMENSIONS if c in by and not (c == "region" and "unit_id" in by)
    ]
    keys = cells[columns].reset_index(drop=True)
    if "period" in columns:
        keys["period"] = _period_starts(keys["period"], period)
    grains = {c: (period if c == "period" else c) for c in columns}
    n = cells["n"].to_numpy(dtype=np.int64)
    lattice = _Lattice(units, thresholds, rollup)
    if "unit_id" in columns:
        lattice.edges = unit_edges(units, keys["unit_id"])
        lattice.lineage = lineage_of(lattice.edges, units)
    return _solve(keys, n, grains, lattice)[-1]


def _solve(
    keys: pd.DataFrame, n: np.ndarray, grains: dict[str, str], lattice: _Lattice
) -> list[np.ndarray]:
    """Hidden cells of one level, one array per threshold.

    Coarser levels are solved first; a set whose parent a coarser call hides must
    hide members of its own, or the parent would follow from its visible members.
    """
    parents = _coarse_parents(keys, n, grains, lattice)
    codes = pd.DataFrame(
        {c: pd.factorize(keys[c], use_na_sentinel=False)[0] for c in keys}
    )
    families = sibling_sets(
        keys,
        codes,
        n,
        units=lattice.units,
        lineage=lattice.lineage,
        period=grains.get("period"),
        rollup=lattice.rollup,
    )
    rank = _tie_rank(keys, n)

    stages, hidden = [], np.zeros(len(n), dtype=bool)
    for stage, threshold in enumerate(lattice.thresholds):
        hidden = hidden | (n < threshold)
        parent_hidden = [_parent_hidden(m, parents, stage) for m in families]
        changed = True
        while changed:
            changed = False
            for members, coarse_above in zip(families, parent_hidden, strict=True):
                in_call = members["parent_cell"]
                above = coarse_above | ((in_call >= 0) & hidden[np.maximum(in_call, 0)])
                added = _complete(members, above, hidden, rank, threshold)
                added = np.union1d(added, _exposed_parents(members, hidden, threshold))
                if added.size:
                    hidden[added] = True
                    changed = True
        stages.append(hidden.copy())
    return stages


def _coarse_parents(
    keys: pd.DataFrame, n: np.ndarray, grains: dict[str, str], lattice: _Lattice
) -> dict[str, list[np.ndarray]]:
    """Per coarser level (``"dim:grain"``): whether it hides each cell's parent."""
    parents = {}
    for dim, grain in _coarsenings(grains, lattice):
        weights = n
        if dim == "unit_id" and lattice.rollup:
            weights = _direct_n(keys, n, lattice.edges)
        coarse_keys, coarse_n, index = _coarsen(
            keys, weights, dim, grain, lattice.units
        )
        coarse_grains = {d: g for d, g in grains.items() if d != dim}
        if grain != "all":
            coarse_grains["region" if dim == "unit_id" else dim] = grain
        level = tuple(sorted(coarse_grains.items()))
        if level not in lattice.solved:
            lattice.solved[level] = _solve(
                coarse_keys, coarse_n, coarse_grains, lattice
            )
        parents[f"{dim}:{grain}"] = [stage[index] for stage in lattice.solved[level]]
    return parents


def _tie_rank(keys: pd.DataFrame, n: np.ndarray) -> np.ndarray:
    """Each cell's place in the order of hiding: smallest n first, then by key."""
    sort_keys = [
        keys[c].astype("string").fillna("").to_numpy() for c in reversed(keys.columns)
    ]
    rank = np.empty(len(n), dtype=np.int64)
    rank[np.lexsort([*sort_keys, n])] = np.arange(len(n))
    return rank


def _coarsenings(grains: dict[str, str], lattice: _Lattice) -> list[tuple[str, str]]:
    """(dimension, coarser grain) pairs whose totals other calls may publish."""
    steps = []
    for dim, grain in grains.items():
        if dim == "period":
            steps += [(dim, coarser) for coarser in COARSER[grain]]
        elif dim == "unit_id" and "region" in lattice.units.columns:
            steps += [(dim, "region"), (dim, "all")]
        else:
            steps.append((dim, "all"))
    return steps


def _coarsen(
    keys: pd.DataFrame, n: np.ndarray, dim: str, grain: str, units: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Sum the cells into a coarser grain of one dimension.

    Returns the coarse keys, their n, and each fine cell's row among them.
    """
    coarse = keys.copy()
    if grain == "all":
        coarse = coarse.drop(columns=dim)
    elif dim == "unit_id":
        regions = units.drop_duplicates("unit_id").set_index("unit_id")["region"]
        coarse["unit_id"] = coarse["unit_id"].map(regions)
        coarse = coarse.rename(columns={"unit_id": "region"})
        coarse = coarse[[c for c in DIMENSIONS if c in coarse.columns]]
    else:
        dates = pd.to_datetime(coarse["period"], format="%Y-%m-%d")
        month = 1 if grain == "year" else (dates.dt.month - 1) // 3 * 3 + 1
        coarse["period"] = pd.to_datetime(
            pd.DataFrame({"year": dates.dt.year, "month": month, "day": 1})
        ).dt.strftime("%Y-%m-%d")
    if coarse.columns.empty:
        return (
            coarse.iloc[:1].reset_index(drop=True),
            n.sum(keepdims=True),
            np.zeros(len(n), dtype=np.int64),
        )
    grouped = coarse.assign(n=n).groupby(list(coarse.columns), dropna=False, sort=True)
    totals = grouped["n"].sum().reset_index()
    index = grouped.ngroup().to_numpy()
    return totals.drop(columns="n"), totals["n"].to_numpy(), index


def _direct_n(keys: pd.DataFrame, n: np.ndarray, edges: pd.DataFrame) -> np.ndarray:
    """Each rolled-up unit's own respondents: its n minus its child units' n."""
    other = [c for c in keys.columns if c != "unit_id"]
    frame = keys.assign(n=n)
    children = frame.merge(edges, on="unit_id")
    below = children.groupby(["parent_id", *other], dropna=False, as_index=False)[
        "n"
    ].sum()
    below = below.rename(columns={"parent_id": "unit_id", "n": "below"})
    merged = frame.merge(below, on=["unit_id", *other], how="left")
    return np.maximum(n - merged["below"].fillna(0).to_numpy(dtype=np.int64), 0)


def _parent_hidden(members: dict, parents: dict, stage: int) -> np.ndarray:
    """For each member, whether a coarser call hides its set's parent."""
    cell, tags = members["cell"], members["tag"]
    above = np.zeros(len(cell), dtype=bool)
    for tag, hidden in parents.items():
        rows = (tags == tag) & (cell >= 0)
        above[rows] = hidden[stage][cell[rows]]
    return above


def _complete(
    members: dict[str, np.ndarray],
    above: np.ndarray,
    hidden: np.ndarray,
    rank: np.ndarray,
    threshold: int,
) -> np.ndarray:
    """Cells to hide so that every set of ``members`` satisfies the rule.

    ``members`` holds arrays ``set``, ``cell`` (row of cells, -1 for implicit direct
    respondents) and ``n``; ``above`` is True where a coarser call hides the parent.
    """
    sets, cell, n = members["set"], members["cell"], members["n"]
    is_cell = cell >= 0
    is_hidden = np.where(is_cell, hidden[np.maximum(cell, 0)], n < threshold)
    is_open = is_cell & ~is_hidden

    def per_set(weights):
        return np.bincount(sets, weights=weights, minlength=sets.max(initial=0) + 1)

    size, total = per_set(None), per_set(n)
    h_count, h_sum = per_set(is_hidden), per_set(np.where(is_hidden, n, 0))
    failing = (
        (per_set(is_open) > 0)
        & (total >= threshold)
        & ((h_count > 0) | (per_set(above) > 0))
        & ((h_count < 2) | (h_sum < threshold))
    )
    if not failing.any():
        return np.empty(0, dtype=np.int64)
    # Smallest sets first: a set nested in a larger one is repaired before it, so
    # the larger set does not hide a cell of its own that would then be redundant.
    failing &= size == size[failing].min()

    picked = np.flatnonzero(is_open & failing[sets])
    picked = picked[np.lexsort((rank[cell[picked]], sets[picked]))]
    set_of, n_of = sets[picked], n[picked]
    first = np.r_[True, set_of[1:] != set_of[:-1]]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    running = np.cumsum(n_of)
    n_before = running - n_of - (running[starts] - n_of[starts])[group]
    count_before = np.arange(len(picked)) - starts[group]
    needed = (h_count[set_of] + count_before < 2) | (
        h_sum[set_of] + n_before < threshold
    )
    return np.unique(cell[picked[needed]])


def _exposed_parents(
    members: dict[str, np.ndarray], hidden: np.ndarray, threshold: int
) -> np.ndarray:
    """Parents in this call that would reveal hidden members no sibling can cover.

    When every member of a set is hidden but they are fewer than two, or pool
    fewer than ``threshold`` respondents, hiding more members is impossible; the
    parent itself (when the call holds it) must be hidden, or it would equal the
    pooled hidden members.
    """
    sets, cell, n = members["set"], members["cell"], members["n"]
    if not len(sets):
        return np.empty(0, dtype=np.int64)
    is_cell = cell >= 0
    is_hidden = np.where(is_cell, hidden[np.maximum(cell, 0)], n < threshold)
    count = sets.max() + 1
    h_count = np.bincount(sets, weights=is_hidden, minlength=count)
    h_sum = np.bincount(sets, weights=np.where(is_hidden, n, 0), minlength=count)
    open_count = np.bincount(sets, weights=is_cell & ~is_hidden, minlength=count)
    parent = np.full(count, -1, dtype=np.int64)
    np.maximum.at(parent, sets, members["parent_cell"])
    exposed = (h_count > 0) & (open_count == 0) & ((h_count < 2) | (h_sum < threshold))
    found = parent[exposed & (parent >= 0)]
    return np.unique(found[~hidden[found]])


def _check_call(
    cells: pd.DataFrame, by: Sequence[str], period: str | None
) -> list[str]:
    """Validate the call's arguments and return ``by`` as a list."""
    by = [by] if isinstance(by, str) else list(by)
    unknown = [c for c in by if c not in DIMENSIONS]
    if unknown or len(set(by)) != len(by):
        raise InputError(
            f"by={by!r}: expected distinct names among {DIMENSIONS}, "
            f"got {unknown or by}"
        )
    missing = [c for c in [*by, "n"] if c not in cells.columns]
    if missing:
        raise InputError(
            f"cells lack column(s) {missing}; it has {list(cells.columns)}"
        )
    if "period" in by and period not in PERIOD_GRAINS:
        raise InputError(
            f"period={period!r}: cells grouped by period need one of {PERIOD_GRAINS}"
        )

    n = pd.to_numeric(cells["n"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(np.isnan(n) | (n < 0) | (n % 1 != 0))
    if bad.size:
        row = int(bad[0])
        raise InputError(
            f"cells row {row}, column n: {cells['n'].tolist()[row]!r} is not a count "
            f"of respondents; expected a whole number >= 0 ({bad.size} row(s) affected)"
        )
    if by:
        repeated = cells.duplicated(subset=by, keep=False).to_numpy()
    else:
        repeated = np.full(len(cells), len(cells) > 1)
    if repeated.any():
        rows = np.flatnonzero(repeated)[:5].tolist()
        raise InputError(
            f"cells rows {rows} repeat the same {by} key; expected one row per group"
        )
    return by


def _period_starts(values: pd.Series, grain: str) -> pd.Series:
    """Check that each period is the first day of a ``grain``; return them as text."""
    text = values.astype(str)
    dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    valid = dates.notna() & (dates.dt.day == 1)
    if grain == "quarter":
        valid &= dates.dt.month % 3 == 1
    elif grain == "year":
        valid &= dates.dt.month == 1
    if not valid.all():
        row = int(np.flatnonzero(~valid.to_numpy())[0])
        raise InputError(
            f"cells row {row}, column period: {values.iloc[row]!r} is not the first "
            f"day of a {grain}; expected 'YYYY-MM-DD', e.g. '2026-01-01'"
        )
    return dates.dt.strftime("%Y-%m-%d")
