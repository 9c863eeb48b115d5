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
its visible cells are hidden smallest ``n`` first, ties broken by the key values.
Decisions depend on ``n`` and the keys only, never on the values.

Across calls the assumption "every parent is published" is not enough: a coarser
call may hide a total (a region, a quarter) to protect a small sibling, and a finer
call would give it back as the sum of its visible parts. So the gate first solves
every coarser level the call's cells add up to (unit -> region -> all, month ->
quarter -> year -> all, role -> all, ...), coarsest first, exactly as the coarser
call itself would; then a set whose parent is hidden there must hide members too,
and a lone member (equal to its parent) is hidden with it. In a rolled-up call a
hidden unit likewise forces its child units' set to hide a member. Sets are
revisited until nothing changes.

``n`` stays visible: it counts respondents, not answers (``hide_n=True`` nulls it).
It lets a reader see that a small group exists, not what it answered.

What the gate does NOT protect against: figures over custom date ranges or answer
filters (a January-to-February total minus January reveals February; the metrics
API offers calendar grains, and a ``where`` on answers makes a new population);
rolled-up calls over a unit tree not aligned with regions (a subtree spanning two
regions); reorganisations (every version of ``units`` counts, so a
moved unit joins both parents' sets, but totals from before and after a move are
not reconciled); an attacker who also knows individual answers or who answered;
and n-exact inference (with n published, a pooled eNPS of 5 people pins down the
count of promoters minus detractors, not who they are).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from excx.errors import InputError, PrivacyError
from excx.privacy._lattice import suppression
from excx.privacy._sets import DIMENSIONS, PERIOD_GRAINS

__all__ = ["DIMENSIONS", "PERIOD_GRAINS", "PrivacyRule", "gate", "gate_comments"]

VALUE_COLUMNS = ("value", "ci_low", "ci_high", "p_value")
_FLOOR = 3
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
                raise PrivacyError(
                    f"PrivacyRule.{name} must be an integer, got {value!r}"
                )
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
    ``|H| >= 2 and sum(n_h for h in H) >= min_n``, and ``H`` is not empty when a
    coarser call (or, with ``rollup``, this one) hides the parent of ``S``.
    Extra cells are hidden smallest ``n`` first, ties broken by the ``by`` values.

    Raises
    ------
    InputError
        If ``by``, ``period``, ``values`` or ``units`` name something unknown, if a
        cell's ``n`` is not a whole number >= 0, if two cells share a key, if a
        period is not the first day of its grain, or if a unit is not in ``units``.

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
    hidden = suppression(
        cells,
        by=by,
        units=units,
        period=period,
        thresholds=(rule.min_n,),
        rollup=rollup,
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
    hidden = suppression(
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
