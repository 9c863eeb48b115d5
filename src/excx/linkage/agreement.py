"""Whether members of a unit agree: rwg and rwg(J).

Within-unit agreement is the rwg index of James, Demaree & Wolf (1984) for one
item and rwg(J) for a scale; it is one of the checks (with ICC(1) and ICC(2) in
:mod:`excx.linkage.icc`, Bliese 2000) made before employee answers are averaged
into unit scores.

Every function accepts a pandas frame or an Ibis table; with an Ibis table only the
per-unit sufficient statistics (n, mean, sum of squares) leave the engine.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from excx.errors import AggregationWarning, InputError
from excx.linkage._checks import _check_min_group_size, _require_columns
from excx.linkage.icc import group_moments

__all__ = [
    "rwg",
    "rwg_j",
]

#: Mean rwg below which unit means are not considered justified (LeBreton &
#: Senter 2008 call 0.70 the conventional cut-off).
RWG_THRESHOLD = 0.70


def _null_variance(scale: tuple[int, int]) -> float:
    """Variance of a uniform answer on the A = high - low + 1 options of a scale."""
    if (
        len(scale) != 2
        or int(scale[1]) != scale[1]
        or int(scale[0]) != scale[0]
        or scale[1] <= scale[0]
    ):
        raise InputError(
            f"scale: (lowest, highest) whole-number options with "
            f"lowest < highest, got {scale!r}"
        )
    options = scale[1] - scale[0] + 1
    return (options**2 - 1) / 12


def _check_scale(data: Any, columns: Sequence[str], scale: tuple[int, int]) -> None:
    if not isinstance(data, pd.DataFrame):
        return
    for column in columns:
        answers = data[column]
        outside = answers.notna() & ~answers.between(scale[0], scale[1])
        if outside.any():
            row = outside.to_numpy().nonzero()[0][0]
            raise InputError(
                f"{column}: value {answers.iloc[row]!r} at row {row} is outside "
                f"the scale {scale[0]}..{scale[1]}"
            )


def _agreement_frame(
    units: pd.Series,
    n: np.ndarray,
    variance: np.ndarray,
    index: np.ndarray,
    min_group_size: int,
    group: str,
    statistic: str,
) -> pd.DataFrame:
    """Per-unit rows plus mean and median rows, with reasons and suppression."""
    estimable = n >= 2
    truncated = estimable & (index < 0)
    value = np.where(estimable, np.clip(index, 0.0, None), np.nan)
    suppressed = n < min_group_size
    reason = np.where(
        ~estimable,
        "one respondent: within-unit variance undefined",
        np.where(
            suppressed, f"fewer than {min_group_size} respondents: suppressed", ""
        ),
    )
    frame = pd.DataFrame(
        {
            group: units.to_numpy(),
            "level": "unit",
            "statistic": statistic,
            "n": n,
            "variance": np.where(estimable & ~suppressed, variance, np.nan),
            "value": np.where(suppressed, np.nan, value),
            "truncated": truncated,
            "suppressed": suppressed,
            "reason": reason,
        }
    )

    valid = value[estimable]
    n_units = int(estimable.sum())
    summary = pd.DataFrame(
        {
            group: [None, None],
            "level": ["mean", "median"],
            "statistic": statistic,
            "n": [n_units, n_units],
            "variance": np.nan,
            "value": [valid.mean(), np.median(valid)] if n_units else [np.nan, np.nan],
            "truncated": False,
            "suppressed": False,
            "reason": "" if n_units else "no unit has two or more respondents",
        }
    )
    if n_units and valid.mean() < RWG_THRESHOLD:
        warnings.warn(
            f"mean {statistic} = {valid.mean():.3f} is below {RWG_THRESHOLD} across "
            f"{n_units} units ({int((valid < RWG_THRESHOLD).sum())} below it): "
            "members of a unit do not agree enough to justify unit means",
            AggregationWarning,
            stacklevel=3,
        )
    return pd.concat([frame, summary], ignore_index=True)


def rwg(
    data: Any,
    *,
    value: str,
    group: str,
    scale: tuple[int, int] = (1, 5),
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Within-unit agreement on one item, rwg (James, Demaree & Wolf 1984).

    Parameters
    ----------
    data
        One row per respondent: pandas DataFrame or Ibis table.
    value
        Column with the answer on ``scale``; missing answers are left out.
    group
        Column with the unit identifier.
    scale
        Lowest and highest option of the answer scale, e.g. ``(1, 5)``.
    min_group_size
        Units with fewer respondents are reported as suppressed (privacy rule for
        employee answers; 5 by default, not below 3). This is primary suppression
        only: pass the unit rows through :func:`excx.privacy.gate` for the
        complementary suppression before publishing them.

    Returns
    -------
    pandas.DataFrame
        One row per unit (``level`` = ``"unit"``), then the ``"mean"`` and
        ``"median"`` over units with two or more respondents (suppressed ones
        included). Columns: the ``group`` column, ``level``, ``statistic``
        (``"rwg"``), ``n``, ``variance``, ``value``, ``truncated`` (observed
        variance exceeded the null variance), ``suppressed``, ``reason``.

    Warns
    -----
    AggregationWarning
        When the mean rwg is below 0.70.

    Notes
    -----
    rwg_j = 1 - s_j^2 / sigma_EU^2 with s_j^2 the sample variance (denominator
    n_j - 1) and sigma_EU^2 = (A^2 - 1) / 12 the variance of a uniform answer
    over the A options of the scale. When s_j^2 > sigma_EU^2 the index would be
    negative; it is truncated to 0 (Lindell, Brandt & Whitney 1999) and
    ``truncated`` is set. A unit of one respondent has no estimate.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"unit": ["a"] * 5 + ["b"] * 5,
    ...                      "item": [4, 4, 5, 4, 4, 1, 5, 3, 2, 4]})
    >>> rwg(data, value="item", group="unit")[["unit", "level", "value"]]
       unit   level  value
    0     a    unit   0.90
    1     b    unit   0.00
    2  None    mean   0.45
    3  None  median   0.45
    """
    _require_columns(data, {"value": value, "group": group})
    null_variance = _null_variance(scale)
    min_group_size = _check_min_group_size(min_group_size)
    _check_scale(data, [value], scale)

    moments = group_moments(data, value=value, group=group)
    n = moments["n"].to_numpy()
    variance = moments["ss"].to_numpy() / np.maximum(n - 1, 1)
    index = 1 - variance / null_variance
    return _agreement_frame(
        moments["group"], n, variance, index, min_group_size, group, "rwg"
    )


def rwg_j(
    data: Any,
    *,
    items: Sequence[str],
    group: str,
    scale: tuple[int, int] = (1, 5),
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Within-unit agreement on a scale of J parallel items, rwg(J).

    Parameters
    ----------
    data
        One row per respondent with one column per item: pandas DataFrame or
        Ibis table. Respondents with a missing item are left out (listwise).
    items
        The item columns (at least two).
    group
        Column with the unit identifier.
    scale, min_group_size
        As in :func:`rwg`.

    Returns
    -------
    pandas.DataFrame
        As :func:`rwg`, with ``statistic`` = ``"rwg_j"`` and ``variance`` the mean
        of the item variances.

    Notes
    -----
    With sbar^2 the mean over items of the within-unit sample variances and
    sigma_EU^2 = (A^2 - 1) / 12 (James, Demaree & Wolf 1984):

        rwg(J) = J (1 - sbar^2/sigma^2) / (J (1 - sbar^2/sigma^2) + sbar^2/sigma^2)

    When sbar^2 > sigma_EU^2 the formula leaves [0, 1]; rwg(J) is then set to 0
    and ``truncated`` is set (as ``multilevel::rwg.j`` does).

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"unit": ["a"] * 5, "q1": [4, 4, 5, 4, 4],
    ...                      "q2": [4, 5, 5, 4, 4]})
    >>> float(rwg_j(data, items=["q1", "q2"], group="unit", min_group_size=5)
    ...       .loc[0, "value"].round(4))
    0.9333
    """
    items = list(items)
    if len(items) < 2:
        raise InputError(f"items: at least two item columns, got {items!r}")
    _require_columns(
        data, {"group": group, **{f"items[{i}]": c for i, c in enumerate(items)}}
    )
    null_variance = _null_variance(scale)
    min_group_size = _check_min_group_size(min_group_size)
    _check_scale(data, items, scale)

    if isinstance(data, pd.DataFrame):
        complete = data.dropna(subset=items)
        grouped = complete.groupby(group, sort=True)
        per_unit = grouped[items].var().assign(n=grouped.size())
    else:
        complete = data.drop_null(items)
        aggregates = {c: complete[c].var(how="sample") for c in items}
        per_unit = (
            complete.group_by(complete[group])
            .aggregate(n=complete.count(), **aggregates)
            .to_pandas()
            .set_index(group)
            .sort_index()
        )

    n = per_unit["n"].to_numpy(dtype="int64")
    mean_variance = per_unit[items].to_numpy(dtype=float).mean(axis=1)
    ratio = mean_variance / null_variance
    n_items = len(items)
    index = n_items * (1 - ratio) / (n_items * (1 - ratio) + ratio)
    index = np.where(ratio > 1, -1.0, index)
    return _agreement_frame(
        per_unit.index.to_series(),
        n,
        mean_variance,
        index,
        min_group_size,
        group,
        "rwg_j",
    )
