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
from dataclasses import dataclass

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
        cells, by=by, units=units, period=period, threshold=rule.min_n, rollup=rollup
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
    common = dict(by=by, units=units, period=period, rollup=rollup)
    hidden = _suppression(cells, threshold=rule.min_n, **common)
    hidden = _suppression(cells, threshold=rule.min_comments, hidden=hidden, **common)
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


def _suppression(
    cells: pd.DataFrame,
    *,
    by: Sequence[str],
    units: pd.DataFrame,
    period: str | None,
    threshold: int,
    rollup: bool,
    hidden: np.ndarray | None = None,
) -> np.ndarray:
    """Return which rows of ``cells`` to hide, as a bool array."""
    by = _check_call(cells, by, period)
    n = cells["n"].to_numpy(dtype=np.int64)
    primary = n < threshold
    hidden = primary.copy() if hidden is None else hidden | primary

    keys = cells[by].reset_index(drop=True)
    codes = pd.DataFrame({c: pd.factorize(keys[c], use_na_sentinel=False)[0] for c in by})
    sort_keys = [keys[c].astype("string").fillna("").to_numpy() for c in reversed(by)]
    rank = np.empty(len(n), dtype=np.int64)
    rank[np.lexsort([*sort_keys, n])] = np.arange(len(n))

    families = _sibling_sets(keys, codes, n, units=units, period=period, rollup=rollup)
    changed = True
    while changed:
        changed = False
        for members in families:
            added = _complete(members, hidden, rank, threshold)
            if added.size:
                hidden[added] = True
                changed = True
    return hidden


def _complete(
    members: pd.DataFrame, hidden: np.ndarray, rank: np.ndarray, threshold: int
) -> np.ndarray:
    """Cells to hide so that every set of ``members`` satisfies the rule.

    ``members`` has columns ``set``, ``cell`` (row of cells, -1 for implicit direct
    respondents) and ``n``.
    """
    cell = members["cell"].to_numpy()
    n = members["n"].to_numpy()
    is_cell = cell >= 0
    is_hidden = np.where(is_cell, hidden[np.maximum(cell, 0)], n < threshold)
    frame = pd.DataFrame(
        {"set": members["set"].to_numpy(), "cell": cell, "n": n, "hidden": is_hidden}
    )
    frame["hidden_n"] = np.where(is_hidden, n, 0)
    frame["rank"] = np.where(is_cell, rank[np.maximum(cell, 0)], -1)

    per_set = frame.groupby("set").agg(
        size=("n", "size"),
        total=("n", "sum"),
        h_count=("hidden", "sum"),
        h_sum=("hidden_n", "sum"),
    )
    open_sets = frame.loc[is_cell & ~is_hidden, "set"].unique()
    failing = per_set[
        per_set.index.isin(open_sets)
        & (per_set["total"] >= threshold)
        & (per_set["h_count"] > 0)
        & ((per_set["h_count"] < 2) | (per_set["h_sum"] < threshold))
    ]
    if failing.empty:
        return np.empty(0, dtype=np.int64)
    # Smallest sets first: a set nested in a larger one is repaired before it, so
    # the larger set does not hide a cell of its own that would then be redundant.
    failing = failing[failing["size"] == failing["size"].min()]

    candidates = frame[is_cell & ~is_hidden & frame["set"].isin(failing.index)]
    candidates = candidates.sort_values(["set", "rank"]).join(failing, on="set")
    grouped = candidates.groupby("set")
    n_before = grouped["n"].cumsum() - candidates["n"]
    count_before = grouped.cumcount()
    needed = (candidates["h_count"] + count_before < 2) | (
        candidates["h_sum"] + n_before < threshold
    )
    return np.unique(candidates.loc[needed, "cell"].to_numpy())


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
    period: str | None,
    rollup: bool,
) -> list[pd.DataFrame]:
    """One frame of sibling sets (``set``, ``cell``, ``n``) per dimension of ``keys``."""
    by = list(keys.columns)
    every_cell = pd.DataFrame({"cell": np.arange(len(keys)), "parent": "all"})
    families = []
    if "unit_id" in by:
        other = [c for c in by if c not in ("unit_id", "region")]
        if rollup:
            members = _rollup_members(keys["unit_id"], codes, n, units, other)
        else:
            pairs = _unit_pairs(keys["unit_id"], units)
            members = _with_keys(pairs, codes, n, other)
        families.append(_numbered(members, other))
    elif "region" in by:
        other = [c for c in by if c != "region"]
        families.append(_numbered(_with_keys(every_cell, codes, n, other), other))
    if "period" in by:
        other = [c for c in by if c != "period"]
        pairs = _period_pairs(keys["period"], period)
        families.append(_numbered(_with_keys(pairs, codes, n, other), other))
    for column in ("role", "tenure_band"):
        if column in by:
            other = [c for c in by if c != column]
            families.append(_numbered(_with_keys(every_cell, codes, n, other), other))
    return families


def _with_keys(
    pairs: pd.DataFrame, codes: pd.DataFrame, n: np.ndarray, other: list[str]
) -> pd.DataFrame:
    """Attach ``n`` and the other dimensions' codes to (cell, parent) pairs."""
    cell = pairs["cell"].to_numpy()
    out = pd.DataFrame({"parent": pairs["parent"].to_numpy(), "cell": cell, "n": n[cell]})
    for column in other:
        out[column] = codes[column].to_numpy()[cell]
    return out


def _numbered(members: pd.DataFrame, other: list[str]) -> pd.DataFrame:
    """Number the sets: members sharing the parent and every other key.

    Members without respondents and sets of one member (child = parent) are left out.
    """
    members = members[members["n"] > 0]
    number = members.groupby(["parent", *other], sort=False).ngroup()
    members = members[number.map(number.value_counts()) > 1]
    number = number[members.index]
    return pd.DataFrame(
        {"set": number.to_numpy(), "cell": members["cell"].to_numpy(),
         "n": members["n"].to_numpy()}
    )


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


def _unit_pairs(unit_ids: pd.Series, units: pd.DataFrame) -> pd.DataFrame:
    """(cell, parent) pairs for cells holding each unit's direct respondents."""
    edges = _unit_edges(units, unit_ids)
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

    cells = pd.DataFrame({"cell": np.arange(len(unit_ids)), "unit_id": unit_ids.to_numpy()})
    tree = cells.merge(lineage.drop_duplicates(), on="unit_id")
    pairs = [pd.DataFrame({"cell": tree["cell"], "parent": "tree:" + tree["ancestor"].astype(str)})]
    if "region" in units.columns:
        regions = units[["unit_id", "region"]].dropna().drop_duplicates()
        in_region = cells.merge(regions, on="unit_id")
        pairs.append(
            pd.DataFrame({"cell": in_region["cell"], "parent": "region:" + in_region["region"].astype(str)})
        )
    pairs.append(pd.DataFrame({"cell": cells["cell"], "parent": "all"}))
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
    pairs = pd.DataFrame({"cell": children["cell"], "parent": children["parent_id"]})
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
    direct["cell"] = -1
    members = pd.concat([members, direct[["parent", "cell", "n", *other]]])
    members["parent"] = "tree:" + members["parent"].astype(str)

    on_top = ~cells["unit_id"].isin(children.loc[children["parent_id"].isin(cells["unit_id"]), "unit_id"])
    tops = [pd.DataFrame({"cell": cells.loc[on_top, "cell"], "parent": "all"})]
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
            pd.DataFrame({"cell": head["cell"], "parent": "region:" + head["region"].astype(str)})
        )
    tops = _with_keys(pd.concat(tops, ignore_index=True), codes, n, other)
    return pd.concat([members, tops], ignore_index=True)


def _period_pairs(values: pd.Series, grain: str) -> pd.DataFrame:
    """(cell, parent) pairs linking each period to the coarser ones it sums into."""
    dates = pd.to_datetime(values.astype(str), format="%Y-%m-%d", errors="coerce")
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
    year = dates.dt.year.astype(str).to_numpy()
    quarter = year + "Q" + ((dates.dt.month - 1) // 3 + 1).astype(str).to_numpy()
    parents = {"quarter": "q:" + quarter, "year": "y:" + year, "all": "all"}
    cell = np.arange(len(values))
    return pd.concat(
        [pd.DataFrame({"cell": cell, "parent": parents[level]}) for level in _COARSER[grain]],
        ignore_index=True,
    )
