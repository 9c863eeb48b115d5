"""The privacy gate: every employee-side aggregate leaves excx through :func:`gate`.

A group's figures are shown only if it has at least ``min_n`` respondents (primary
suppression). Showing the other groups must not let a reader compute a hidden one by
subtraction, from this call or from any other call over the same data, so the gate
also hides some visible groups (complementary suppression).

How it reasons. Each dimension of a call is a hierarchy, and every parent total is
assumed to be published by some other call:

- ``unit_id``: the cells in the subtree of every unit (``units.parent_id``), the
  cells of every ``units.region`` and all cells together partition those totals.
  With ``rollup=True`` (each unit's cell already includes its subtree) a parent's
  children plus its implicit direct respondents (parent n - sum of children n)
  partition the parent; the direct respondents are a hidden member when
  ``0 < n_direct < min_n`` and a known one otherwise.
- ``region``, ``role``, ``tenure_band``: the categories (null included) partition
  the total over that dimension.
- ``period``: months partition their quarter, their year and the whole span;
  quarters their year and the span; years the span.

A sibling set is the cells that share every other key and the same parent in one
dimension. In every sibling set the hidden members must be none, or at least two
whose respondents sum to at least the threshold; then subtraction yields only the
pooled figure of a group at least as large as a reportable one. When a set fails,
its visible cells are hidden smallest ``n`` first, ties broken by the key values, so
two calls over the same data make the same choice. The dimensions are revisited
until nothing changes. Decisions depend on ``n`` and the keys only, never on values.

``n`` stays visible: it counts respondents, not answers (``hide_n=True`` nulls it).

What the gate does NOT protect against: figures over custom date ranges or filters
(the metrics API offers calendar grains only; a January-to-February total minus
January reveals February); chains of subtractions across calls at different grains
whose complementary choices differ (e.g. a quarter cell hidden to protect a small
region, but computable as the sum of that region's visible months); differencing
over reorganisations (time-versioned units are merged, every parent they ever had
counts); and knowledge outside the data (who is on leave, who answered).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from excx.errors import InputError, PrivacyError

__all__ = ["DIMENSIONS", "PERIOD_GRAINS", "PrivacyRule", "gate", "gate_comments"]

DIMENSIONS = ("unit_id", "region", "period", "role", "tenure_band")
PERIOD_GRAINS = ("month", "quarter", "year")
VALUE_COLUMNS = ("value", "ci_low", "ci_high", "p_value")
_FLOOR = 3
# The coarser periods each grain's cells are summed into by other calls.
_COARSER = {"month": ("quarter", "year", "all"), "quarter": ("year", "all")}
_COARSER["year"] = ("all",)

log = logging.getLogger("excx")


@dataclass(frozen=True)
class PrivacyRule:
    """The thresholds of the privacy gate.

    Attributes
    ----------
    min_n
        Respondents a group needs for its figures to be shown.
    min_comments
        Respondents a group needs for its comments to be listed.

    Raises
    ------
    PrivacyError
        If a threshold is not an integer or is below the floor of 3.

    Examples
    --------
    >>> PrivacyRule(min_n=8).min_n
    8
    """

    min_n: int = 5
    min_comments: int = 10

    def __post_init__(self) -> None:
        for name in ("min_n", "min_comments"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise PrivacyError(f"PrivacyRule.{name} must be an integer, got {value!r}")
            if value < _FLOOR:
                raise PrivacyError(
                    f"PrivacyRule.{name}={value} is below the floor of {_FLOOR}: "
                    f"thresholds can be raised, never lowered below {_FLOOR}"
                )


def gate(
    cells: pd.DataFrame,
    *,
    by: Sequence[str],
    units: pd.DataFrame,
    period: str | None,
    rule: PrivacyRule = PrivacyRule(),
    values: Sequence[str] = (),
    rollup: bool = False,
    hide_n: bool = False,
) -> pd.DataFrame:
    """Hide the groups whose figures would reveal fewer than ``rule.min_n`` people.

    Parameters
    ----------
    cells
        One row per group: the ``by`` columns, ``n`` (respondents) and the figures
        (``value``, ``ci_low``, ``ci_high``, ...). Must cover every group of the
        call's dimensions, so that sibling sets are complete.
    by
        The grouping columns, a subset of :data:`DIMENSIONS`.
    units
        The units table (``unit_id``, ``parent_id``, ``region``); used when ``by``
        holds ``unit_id``.
    period
        Grain of the ``period`` column (one of :data:`PERIOD_GRAINS`), whose values
        are the period's first day as ``"YYYY-MM-DD"``; None when not grouped by it.
    rule
        The thresholds.
    values
        Further columns to null where suppressed, besides :data:`VALUE_COLUMNS`.
    rollup
        True if each unit's cell includes the respondents of its whole subtree.
    hide_n
        Also null ``n`` where suppressed.

    Returns
    -------
    pandas.DataFrame
        The same rows in the same order, plus a bool ``suppressed`` column; the
        value columns are null where it is True.

    Notes
    -----
    Primary: hidden if ``n < min_n``. Complementary: in every sibling set ``S``
    (see the module docstring) the hidden members ``H`` satisfy ``H = {}`` or
    ``|H| >= 2 and sum(n_h for h in H) >= min_n``.

    Examples
    --------
    >>> cells = pd.DataFrame({"region": ["north", "south", "west"],
    ...                       "n": [3, 40, 12], "value": [10.0, 20.0, 30.0]})
    >>> gate(cells, by=["region"], units=pd.DataFrame(), period=None)["suppressed"]
    0     True
    1    False
    2     True
    Name: suppressed, dtype: bool
    """
    hidden = _suppression(
        cells, by=by, units=units, period=period, thresholds=(rule.min_n,), rollup=rollup
    )
    return _publish(cells, hidden, values=values, hide_n=hide_n)


def gate_comments(
    cells: pd.DataFrame,
    *,
    by: Sequence[str],
    units: pd.DataFrame,
    period: str | None,
    rule: PrivacyRule = PrivacyRule(),
    values: Sequence[str] = (),
    rollup: bool = False,
) -> pd.DataFrame:
    """Mark the groups whose comments may not be listed.

    Takes the same arguments as :func:`gate` and returns the same frame, with
    ``suppressed`` True where the group's comments must stay hidden: where
    :func:`gate` hides its figures, where it has fewer than ``rule.min_comments``
    respondents, and where listing it would let a reader isolate a hidden group's
    comments by subtraction (parent listing minus visible siblings' listings).

    Notes
    -----
    The complementary rule of :func:`gate` applied with ``min_comments``, starting
    from the groups :func:`gate` hides; the result hides a superset of them.

    Examples
    --------
    >>> cells = pd.DataFrame({"role": ["agent", "manager", "advisor"],
    ...                       "n": [40, 7, 12]})
    >>> gate_comments(cells, by=["role"], units=pd.DataFrame(), period=None)[
    ...     "suppressed"].tolist()
    [False, True, True]
    """
    thresholds = (rule.min_n, rule.min_comments)
    hidden = _suppression(
        cells, by=by, units=units, period=period, thresholds=thresholds, rollup=rollup
    )
    return _publish(cells, hidden, values=values, hide_n=False)


def _publish(
    cells: pd.DataFrame, hidden: np.ndarray, *, values: Sequence[str], hide_n: bool
) -> pd.DataFrame:
    missing = [c for c in values if c not in cells.columns]
    if missing:
        raise InputError(f"values= names columns not in cells: {missing}")
    out = cells.copy()
    shown = pd.Series(~hidden, index=out.index)
    columns = [c for c in VALUE_COLUMNS if c in out.columns] + list(values)
    for column in columns + (["n"] if hide_n else []):
        out[column] = out[column].where(shown)
    out["suppressed"] = hidden
    log.debug("privacy gate: %d of %d groups suppressed", hidden.sum(), len(out))
    return out


@dataclass
class _Lattice:
    """What every level of one call shares: units, thresholds and solved levels."""

    units: pd.DataFrame
    thresholds: tuple[int, ...]
    rollup: bool
    lineage: pd.DataFrame | None = None
    edges: pd.DataFrame | None = None
    solved: dict = field(default_factory=dict)


def _suppression(
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
    columns = [c for c in DIMENSIONS if c in by and not (c == "region" and "unit_id" in by)]
    keys = cells[columns].reset_index(drop=True)
    if "period" in columns:
        keys["period"] = _period_starts(keys["period"], period)
    grains = {c: (period if c == "period" else c) for c in columns}
    n = cells["n"].to_numpy(dtype=np.int64)
    lattice = _Lattice(units, thresholds, rollup)
    if "unit_id" in columns:
        lattice.edges = _unit_edges(units, keys["unit_id"])
        lattice.lineage = _lineage(lattice.edges, units)
    return _solve(keys, n, grains, lattice)[-1]


def _solve(
    keys: pd.DataFrame, n: np.ndarray, grains: dict[str, str], lattice: _Lattice
) -> list[np.ndarray]:
    """Hidden cells of one level, one array per threshold.

    Coarser levels are solved first; a set whose parent a coarser call hides must
    hide members of its own, or the parent would follow from its visible members.
    """
    parents = {}
    for dim, grain in _coarsenings(grains, lattice):
        weights = n
        if dim == "unit_id" and lattice.rollup:
            weights = _direct_n(keys, n, lattice.edges)
        coarse_keys, coarse_n, index = _coarsen(keys, weights, dim, grain, lattice.units)
        coarse_grains = {d: g for d, g in grains.items() if d != dim}
        if grain != "all":
            coarse_grains["region" if dim == "unit_id" else dim] = grain
        level = tuple(sorted(coarse_grains.items()))
        if level not in lattice.solved:
            lattice.solved[level] = _solve(coarse_keys, coarse_n, coarse_grains, lattice)
        parents[f"{dim}:{grain}"] = [stage[index] for stage in lattice.solved[level]]

    codes = pd.DataFrame({c: pd.factorize(keys[c], use_na_sentinel=False)[0] for c in keys})
    sort_keys = [keys[c].astype("string").fillna("").to_numpy() for c in reversed(keys.columns)]
    rank = np.empty(len(n), dtype=np.int64)
    rank[np.lexsort([*sort_keys, n])] = np.arange(len(n))
    families = _sibling_sets(keys, codes, n, units=lattice.units, lineage=lattice.lineage,
                             period=grains.get("period"), rollup=lattice.rollup)

    stages, hidden = [], np.zeros(len(n), dtype=bool)
    for stage, threshold in enumerate(lattice.thresholds):
        hidden = hidden | (n < threshold)
        parent_hidden = [_parent_hidden(m, parents, stage) for m in families]
        changed = True
        while changed:
            changed = False
            for members, coarse_above in zip(families, parent_hidden):
                in_call = members["parent_cell"]
                above = coarse_above | (in_call >= 0) & hidden[np.maximum(in_call, 0)]
                added = _complete(members, above, hidden, rank, threshold)
                if added.size:
                    hidden[added] = True
                    changed = True
        stages.append(hidden.copy())
    return stages


def _coarsenings(grains: dict[str, str], lattice: _Lattice) -> list[tuple[str, str]]:
    """(dimension, coarser grain) pairs whose totals other calls may publish."""
    steps = []
    for dim, grain in grains.items():
        if dim == "period":
            steps += [(dim, coarser) for coarser in _COARSER[grain]]
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
        return coarse.iloc[:1].reset_index(drop=True), n.sum(keepdims=True), np.zeros(len(n), dtype=np.int64)
    grouped = coarse.assign(n=n).groupby(list(coarse.columns), dropna=False, sort=True)
    totals = grouped["n"].sum().reset_index()
    index = grouped.ngroup().to_numpy()
    return totals.drop(columns="n"), totals["n"].to_numpy(), index


def _direct_n(keys: pd.DataFrame, n: np.ndarray, edges: pd.DataFrame) -> np.ndarray:
    """Each rolled-up unit's own respondents: its n minus its child units' n."""
    other = [c for c in keys.columns if c != "unit_id"]
    frame = keys.assign(n=n)
    children = frame.merge(edges, on="unit_id")
    below = children.groupby(["parent_id", *other], dropna=False, as_index=False)["n"].sum()
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
    needed = (h_count[set_of] + count_before < 2) | (h_sum[set_of] + n_before < threshold)
    return np.unique(cell[picked[needed]])


def _check_call(cells: pd.DataFrame, by: Sequence[str], period: str | None) -> list[str]:
    """Validate the call's arguments and return ``by`` as a list."""
    if isinstance(by, str):
        by = [by]
    by = list(by)
    unknown = [c for c in by if c not in DIMENSIONS]
    if unknown or len(set(by)) != len(by):
        raise InputError(
            f"by={by!r}: expected distinct names among {DIMENSIONS}, got {unknown or by}"
        )
    missing = [c for c in [*by, "n"] if c not in cells.columns]
    if missing:
        raise InputError(f"cells lack column(s) {missing}; it has {list(cells.columns)}")
    if "period" in by and period not in PERIOD_GRAINS:
        raise InputError(f"period={period!r}: cells grouped by period need one of {PERIOD_GRAINS}")

    n = pd.to_numeric(cells["n"], errors="coerce")
    bad = np.flatnonzero(n.isna().to_numpy() | (n < 0).to_numpy() | (n % 1 != 0).to_numpy())
    if bad.size:
        row = int(bad[0])
        raise InputError(
            f"cells row {row}, column n: {cells['n'].iloc[row]!r} is not a count of "
            f"respondents; expected a whole number >= 0 ({bad.size} row(s) affected)"
        )
    duplicated = np.flatnonzero(cells.duplicated(subset=by, keep=False).to_numpy()) if by else []
    if len(duplicated) or (not by and len(cells) > 1):
        raise InputError(
            f"cells rows {list(duplicated[:5]) or list(range(len(cells)))[:5]} repeat the "
            f"same {by} key; expected one row per group"
        )
    return by


def _sibling_sets(
    keys: pd.DataFrame,
    codes: pd.DataFrame,
    n: np.ndarray,
    *,
    units: pd.DataFrame,
    lineage: pd.DataFrame | None,
    period: str | None,
    rollup: bool,
) -> list[dict[str, np.ndarray]]:
    """One frame of sibling sets (``set``, ``cell``, ``n``) per dimension of ``keys``."""
    by = list(keys.columns)
    cell = np.arange(len(keys))
    families = []
    if "unit_id" in by:
        other = [c for c in by if c not in ("unit_id", "region")]
        if rollup:
            members = _rollup_members(keys["unit_id"], codes, n, units, other)
        else:
            pairs = _unit_pairs(keys["unit_id"], units, lineage)
            members = _with_keys(pairs, codes, n, other)
        families.append(_numbered(members, other))
    elif "region" in by:
        other = [c for c in by if c != "region"]
        pairs = pd.DataFrame({"cell": cell, "parent": "all", "tag": "region:all"})
        families.append(_numbered(_with_keys(pairs, codes, n, other), other))
    if "period" in by:
        other = [c for c in by if c != "period"]
        pairs = _period_pairs(keys["period"], period)
        families.append(_numbered(_with_keys(pairs, codes, n, other), other))
    for column in ("role", "tenure_band"):
        if column in by:
            other = [c for c in by if c != column]
            pairs = pd.DataFrame({"cell": cell, "parent": "all", "tag": f"{column}:all"})
            families.append(_numbered(_with_keys(pairs, codes, n, other), other))
    return families


def _with_keys(
    pairs: pd.DataFrame, codes: pd.DataFrame, n: np.ndarray, other: list[str]
) -> pd.DataFrame:
    """Attach ``n`` and the other dimensions' codes to (cell, parent) pairs."""
    cell = pairs["cell"].to_numpy()
    out = pd.DataFrame({"parent": pairs["parent"].to_numpy(), "cell": cell, "n": n[cell],
                        "tag": pairs["tag"].to_numpy(), "parent_cell": -1})
    for column in other:
        out[column] = codes[column].to_numpy()[cell]
    return out


def _numbered(members: pd.DataFrame, other: list[str]) -> dict[str, np.ndarray]:
    """Number the sets: members sharing the parent and every other key.

    Members without respondents and sets of one member (child = parent) are left out.
    """
    members = members[members["n"] > 0]
    number = members.groupby(["parent", *other], sort=False).ngroup().to_numpy()
    # A lone member equals its parent: it matters only if a coarser call hides it.
    keep = np.bincount(number, minlength=number.max(initial=0) + 1)[number] > 1
    keep |= members["tag"].to_numpy() != ""
    return {
        "set": number[keep],
        "cell": members["cell"].to_numpy()[keep],
        "n": members["n"].to_numpy()[keep],
        "tag": members["tag"].to_numpy()[keep],
        "parent_cell": members["parent_cell"].fillna(-1).to_numpy(dtype=np.int64)[keep],
    }


def _unit_edges(units: pd.DataFrame, unit_ids: pd.Series) -> pd.DataFrame:
    """(unit_id, parent_id) pairs of every version of the units table."""
    missing = [c for c in ("unit_id", "parent_id") if c not in units.columns]
    if missing:
        raise InputError(
            f"units lacks column(s) {missing}, needed to group by unit_id; "
            f"pass the units table (unit_id, parent_id, region, kind)"
        )
    unknown = sorted(set(unit_ids.dropna()) - set(units["unit_id"]))
    if unknown or unit_ids.isna().any():
        shown = unknown[:5] if unknown else [None]
        raise InputError(
            f"cells column unit_id holds {len(unknown) or 1} unit(s) not in units, "
            f"e.g. {shown}; expected unit_id values of the units table"
        )
    edges = units[["unit_id", "parent_id"]].dropna().drop_duplicates()
    return edges.astype({"unit_id": object, "parent_id": object})


def _lineage(edges: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """(unit_id, ancestor) for every unit, itself included."""
    known = pd.unique(pd.concat([units["unit_id"], edges["parent_id"]]))
    lineage = pd.DataFrame({"unit_id": known, "ancestor": known})
    frontier = lineage
    for _ in range(len(known) + 1):
        step = frontier.merge(edges, left_on="ancestor", right_on="unit_id")
        frontier = pd.DataFrame(
            {"unit_id": step["unit_id_x"], "ancestor": step["parent_id"]}
        ).drop_duplicates()
        if frontier.empty:
            break
        lineage = pd.concat([lineage, frontier])
    else:
        raise InputError("units: parent_id forms a cycle; expected a tree of units")
    return lineage.drop_duplicates()


def _unit_pairs(unit_ids: pd.Series, units: pd.DataFrame, lineage: pd.DataFrame) -> pd.DataFrame:
    """(cell, parent) pairs for cells holding each unit's direct respondents."""
    cells = pd.DataFrame({"cell": np.arange(len(unit_ids)), "unit_id": unit_ids.to_numpy()})
    tree = cells.merge(lineage, on="unit_id")
    parent = "tree:" + tree["ancestor"].astype(str)
    pairs = [pd.DataFrame({"cell": tree["cell"], "parent": parent, "tag": ""})]
    if "region" in units.columns:
        regions = units[["unit_id", "region"]].dropna().drop_duplicates()
        in_region = cells.merge(regions, on="unit_id")
        parent = "region:" + in_region["region"].astype(str)
        pairs.append(
            pd.DataFrame({"cell": in_region["cell"], "parent": parent, "tag": "unit_id:region"})
        )
    pairs.append(pd.DataFrame({"cell": cells["cell"], "parent": "all", "tag": "unit_id:all"}))
    return pd.concat(pairs, ignore_index=True)


def _rollup_members(
    unit_ids: pd.Series,
    codes: pd.DataFrame,
    n: np.ndarray,
    units: pd.DataFrame,
    other: list[str],
) -> pd.DataFrame:
    """Members for cells whose unit figures include their whole subtree.

    A parent's children and its direct respondents (parent n - children n, a member
    with ``cell = -1``) partition the parent; the top units partition the company
    and the top units of each region partition the region.
    """
    edges = _unit_edges(units, unit_ids)
    cells = pd.DataFrame({"cell": np.arange(len(unit_ids)), "unit_id": unit_ids.to_numpy()})
    children = cells.merge(edges, on="unit_id")
    pairs = pd.DataFrame({"cell": children["cell"], "parent": children["parent_id"], "tag": ""})
    members = _with_keys(pairs, codes, n, other)

    present = cells.assign(n=n, **{c: codes[c].to_numpy() for c in other})
    sums = members.groupby(["parent", *other], as_index=False)["n"].sum()
    parents = present.rename(columns={"unit_id": "parent", "n": "parent_n"})
    direct = sums.merge(parents, on=["parent", *other])
    direct = direct.assign(n=direct["parent_n"] - direct["n"])
    if (direct["n"] < 0).any():
        row = int(direct.loc[direct["n"] < 0, "cell"].iloc[0])
        raise InputError(
            f"cells row {row}: unit {unit_ids.iloc[row]!r} has fewer respondents than "
            f"its child units together; with rollup=True each unit's n must include "
            f"its subtree"
        )
    # A tree set's parent is a cell of this call: once hidden, its set must hide
    # a member too, or the parent would be the sum of its visible children.
    parent_rows = parents[["parent", *other, "cell"]].rename(columns={"cell": "parent_cell"})
    members = members.drop(columns="parent_cell").merge(
        parent_rows, on=["parent", *other], how="left"
    )
    direct = direct.assign(parent_cell=direct["cell"], cell=-1, tag="")
    columns = ["parent", "cell", "n", "tag", "parent_cell", *other]
    members = pd.concat([members[columns], direct[columns]])
    members["parent"] = "tree:" + members["parent"].astype(str)

    on_top = ~cells["unit_id"].isin(children.loc[children["parent_id"].isin(cells["unit_id"]), "unit_id"])
    tops = [
        pd.DataFrame({"cell": cells.loc[on_top, "cell"], "parent": "all", "tag": "unit_id:all"})
    ]
    if "region" in units.columns:
        region = units[["unit_id", "region"]].dropna().drop_duplicates()
        linked = children.merge(region, on="unit_id").merge(
            region.rename(columns={"unit_id": "parent_id"}), on="parent_id"
        )
        nested = linked.loc[
            (linked["region_x"] == linked["region_y"])
            & linked["parent_id"].isin(cells["unit_id"]),
            "unit_id",
        ]
        head = cells[~cells["unit_id"].isin(nested)].merge(region, on="unit_id")
        tops.append(
            pd.DataFrame(
                {"cell": head["cell"], "parent": "region:" + head["region"].astype(str),
                 "tag": "unit_id:region"}
            )
        )
    tops = _with_keys(pd.concat(tops, ignore_index=True), codes, n, other)
    return pd.concat([members, tops], ignore_index=True)


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


def _period_pairs(values: pd.Series, grain: str) -> pd.DataFrame:
    """(cell, parent) pairs linking each period to the coarser ones it sums into."""
    dates = pd.to_datetime(values, format="%Y-%m-%d")
    year = dates.dt.year.astype(str).to_numpy()
    quarter = year + "Q" + ((dates.dt.month - 1) // 3 + 1).astype(str).to_numpy()
    parents = {"quarter": "q:" + quarter, "year": "y:" + year, "all": "all"}
    cell = np.arange(len(values))
    return pd.concat(
        [
            pd.DataFrame({"cell": cell, "parent": parents[level], "tag": f"period:{level}"})
            for level in _COARSER[grain]
        ],
        ignore_index=True,
    )
