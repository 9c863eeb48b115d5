"""Whether unit means stand for their members: ICC(1) and ICC(2).

Before employee answers are averaged into unit scores, two questions are asked
(Bliese 2000): do units differ more than chance would make them differ (ICC(1) with
its F test), and are the unit means reliable (ICC(2))? Within-unit agreement (rwg)
is in :mod:`excx.linkage.agreement`.

Every function accepts a pandas frame or an Ibis table; with an Ibis table only the
per-unit sufficient statistics (n, mean, sum of squares) leave the engine.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from excx.errors import AggregationWarning, InputError
from excx.linkage._checks import _require_columns, _require_units

__all__ = [
    "group_moments",
    "icc",
    "icc_from_groups",
    "respondents_for_reliability",
]


def group_moments(data: Any, *, value: str, group: str) -> pd.DataFrame:
    """Per-unit sufficient statistics of one answer column.

    Parameters
    ----------
    data
        Individual answers, one row per respondent: a pandas DataFrame or an Ibis
        table (then the group-by runs in the engine).
    value
        Column with the answer; missing answers are left out.
    group
        Column with the unit identifier.

    Returns
    -------
    pandas.DataFrame
        One row per unit, sorted by unit, with columns ``group`` (the unit id),
        ``n`` (non-missing answers), ``mean`` and ``ss`` (sum of squared deviations
        from the unit mean, 0 for a unit of one).

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"unit": ["a", "a", "b"], "score": [1.0, 3.0, 4.0]})
    >>> group_moments(answers, value="score", group="unit")
      group  n  mean   ss
    0     a  2   2.0  2.0
    1     b  1   4.0  0.0
    """
    _require_columns(data, {"value": value, "group": group})

    if isinstance(data, pd.DataFrame):
        answers = data.loc[data[value].notna(), [group, value]]
        grouped = answers.groupby(group, sort=True)[value]
        moments = pd.DataFrame(
            {"n": grouped.count(), "mean": grouped.mean(), "var": grouped.var()}
        )
    else:
        answers = data.filter(data[value].notnull())
        expr = answers.group_by(answers[group]).aggregate(
            n=answers[value].count(),
            mean=answers[value].mean(),
            var=answers[value].var(how="sample"),
        )
        moments = expr.to_pandas().set_index(group).sort_index()

    moments = moments.rename_axis("group").reset_index()
    moments["n"] = moments["n"].astype("int64")
    moments["mean"] = moments["mean"].astype("float64")
    moments["ss"] = (moments["var"].astype("float64") * (moments["n"] - 1)).fillna(0.0)
    return moments[["group", "n", "mean", "ss"]]


def _anova(groups: pd.DataFrame) -> dict[str, float]:
    """One-way ANOVA mean squares from per-unit n, mean and ss."""
    n = groups["n"].to_numpy(dtype=float)
    mean = groups["mean"].to_numpy(dtype=float)
    total, n_units = n.sum(), len(n)
    grand = (n * mean).sum() / total
    df1, df2 = n_units - 1, total - n_units
    msb = (n * (mean - grand) ** 2).sum() / df1
    msw = groups["ss"].to_numpy(dtype=float).sum() / df2 if df2 > 0 else np.nan
    k0 = (total - (n**2).sum() / total) / df1
    return {
        "N": total,
        "J": n_units,
        "df1": df1,
        "df2": df2,
        "msb": msb,
        "msw": msw,
        "k0": k0,
        "mean_n": total / n_units,
    }


def icc_from_groups(
    groups: pd.DataFrame,
    *,
    n: str = "n",
    mean: str = "mean",
    ss: str = "ss",
    level: float = 0.95,
    alpha: float = 0.05,
    group_size: str = "adjusted",
) -> pd.DataFrame:
    """ICC(1), ICC(2) and the mean unit reliability from per-unit statistics.

    Parameters
    ----------
    groups
        One row per unit, e.g. from :func:`group_moments` or an engine aggregate.
    n, mean, ss
        Columns with the number of answers, their mean and the sum of squared
        deviations from the unit mean.
    level
        Confidence level of the intervals.
    alpha
        Significance level of the F test behind the aggregation warning.
    group_size
        ``"adjusted"`` (default) uses k0 = (N - sum n_j^2 / N) / (J - 1) in ICC(1);
        ``"mean"`` uses N / J, as ``multilevel::ICC1`` in R does. Equal for
        balanced data.

    Returns
    -------
    pandas.DataFrame
        Three rows, ``statistic`` = ``"ICC1"``, ``"ICC2"`` and
        ``"mean_reliability"``, with columns ``value``, ``ci_low``, ``ci_high``,
        ``F``, ``df1``, ``df2``, ``p_value``, ``n`` (answers), ``n_units``, ``k``
        (group size used) and ``reason`` (why there is no estimate, else empty).

    Warns
    -----
    AggregationWarning
        When the F test of ICC(1) is not significant at ``alpha``.

    Notes
    -----
    With J units, N answers, MSB = sum n_j (ybar_j - ybar)^2 / (J - 1) and
    MSW = sum ss_j / (N - J) (Bliese 2000):

    - ICC(1) = (MSB - MSW) / (MSB + (k - 1) MSW); it can be negative.
    - ICC(2) = (MSB - MSW) / MSB, the reliability of a unit mean at the typical
      group size (Spearman-Brown of ICC(1) at k for balanced data).
    - mean_reliability = mean over units of n_j ICC1 / (1 + (n_j - 1) ICC1).
    - F = MSB / MSW on (J - 1, N - J) degrees of freedom; ``p_value`` is its
      upper tail, the same for all three rows.

    Intervals are the exact F-based ones of Shrout & Fleiss (1979, one-way model):
    F_L = F / F_{1-a/2}(J-1, N-J), F_U = F * F_{1-a/2}(N-J, J-1), then
    ICC(1) in [(F_L - 1)/(F_L + k - 1), (F_U - 1)/(F_U + k - 1)] and ICC(2) in
    [1 - 1/F_L, 1 - 1/F_U]. The mean_reliability interval maps the ICC(1) bounds
    through the same (monotone) formula. For unequal group sizes they are
    approximations.

    Examples
    --------
    >>> import pandas as pd
    >>> groups = pd.DataFrame({"n": [4, 4, 4], "mean": [6.0, 3.0, 6.5],
    ...                        "ss": [30.0, 14.0, 11.0]})
    >>> icc_from_groups(groups)[["statistic", "value"]].round(3)
              statistic  value
    0              ICC1  0.252
    1              ICC2  0.574
    2  mean_reliability  0.574
    """
    _require_columns(groups, {"n": n, "mean": mean, "ss": ss})
    if not 0 < level < 1:
        raise InputError(f"level: must be between 0 and 1, got {level}")
    if group_size not in ("adjusted", "mean"):
        raise InputError(f"group_size: 'adjusted' or 'mean', got {group_size!r}")
    frame = groups[[n, mean, ss]].set_axis(["n", "mean", "ss"], axis=1)
    frame = frame[frame["n"] > 0]
    _require_units(len(frame), "icc")
    if (frame["ss"] < 0).any() or frame.isna().any().any():
        raise InputError(
            f"groups: columns {n}, {mean}, {ss} must be non-missing "
            "and sums of squares non-negative"
        )

    aov = _anova(frame)
    k = aov["k0"] if group_size == "adjusted" else aov["mean_n"]
    result = pd.DataFrame(
        {
            "statistic": ["ICC1", "ICC2", "mean_reliability"],
            **dict.fromkeys(("value", "ci_low", "ci_high", "F"), np.nan),
            "df1": aov["df1"],
            "df2": aov["df2"],
            "p_value": np.nan,
            "n": int(aov["N"]),
            "n_units": int(aov["J"]),
            "k": k,
            "reason": "",
        }
    )

    reason = _no_icc_reason(aov)
    if reason:
        result["reason"] = reason
        return result

    _fill_icc(result, aov, k, frame["n"].to_numpy(dtype=float), level)
    if result.loc[0, "p_value"] >= alpha:
        warnings.warn(
            f"ICC(1) = {result.loc[0, 'value']:.3f} is not significant "
            f"(F({aov['df1']:.0f}, {aov['df2']:.0f}) = {result.loc[0, 'F']:.2f}, "
            f"p = {result.loc[0, 'p_value']:.3f}) across {aov['J']:.0f} units: "
            "unit means may not represent their members",
            AggregationWarning,
            stacklevel=2,
        )
    return result


def _no_icc_reason(aov: dict[str, float]) -> str:
    if aov["df2"] <= 0:
        return "every unit has a single answer: no within-unit variance"
    if aov["msw"] == 0 and aov["msb"] == 0:
        return "all answers are equal: variance is zero"
    return ""


def _fill_icc(
    result: pd.DataFrame,
    aov: dict[str, float],
    k: float,
    sizes: np.ndarray,
    level: float,
) -> None:
    msb, msw, df1, df2 = aov["msb"], aov["msw"], aov["df1"], aov["df2"]
    f_value = msb / msw if msw > 0 else np.inf
    p_value = float(stats.f.sf(f_value, df1, df2))
    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc2 = (msb - msw) / msb if msb > 0 else np.nan

    tail = 1 - (1 - level) / 2
    f_low = f_value / stats.f.ppf(tail, df1, df2)
    f_high = f_value * stats.f.ppf(tail, df2, df1)
    icc1_ci = [
        (f - 1) / (f + k - 1) if np.isfinite(f) else 1.0 for f in (f_low, f_high)
    ]

    def reliability(icc1_value: float) -> float:
        denominator = 1 + (sizes - 1) * icc1_value
        if (denominator <= 0).any():
            return np.nan
        return float(np.mean(sizes * icc1_value / denominator))

    result["F"] = f_value
    result["p_value"] = p_value
    result.loc[0, ["value", "ci_low", "ci_high"]] = [icc1, *icc1_ci]
    if msb > 0:
        result.loc[1, ["value", "ci_low", "ci_high"]] = [
            icc2,
            1 - 1 / f_low,
            1 - 1 / f_high if np.isfinite(f_high) else 1.0,
        ]
    else:
        result.loc[1, "reason"] = "all unit means are equal (MSB = 0): no ICC(2)"
    result.loc[2, ["value", "ci_low", "ci_high"]] = [
        reliability(icc1),
        reliability(icc1_ci[0]),
        reliability(icc1_ci[1]),
    ]
    if np.isnan(result.loc[2, ["value", "ci_low", "ci_high"]].to_numpy(float)).any():
        result.loc[2, "reason"] = (
            "ICC(1) <= -1/(n_j - 1) for some unit: Spearman-Brown undefined there"
        )


def icc(
    data: Any,
    *,
    value: str,
    group: str,
    level: float = 0.95,
    alpha: float = 0.05,
    group_size: str = "adjusted",
) -> pd.DataFrame:
    """ICC(1) and ICC(2) of individual answers grouped in units (one-way ANOVA).

    Computes the per-unit n, mean and sum of squares with :func:`group_moments`
    (in the engine for an Ibis table) and passes them to :func:`icc_from_groups`;
    see there for the formulas, output columns and the warning.

    Parameters
    ----------
    data
        One row per respondent: pandas DataFrame or Ibis table.
    value
        Column with the answer; missing answers are left out.
    group
        Column with the unit identifier.
    level, alpha, group_size
        As in :func:`icc_from_groups`.

    Examples
    --------
    Shrout & Fleiss (1979), Table 2, six targets rated by four judges:

    >>> import pandas as pd
    >>> ratings = [9, 2, 5, 8, 6, 1, 3, 2, 8, 4, 6, 8,
    ...            7, 1, 2, 6, 10, 5, 6, 9, 6, 2, 4, 7]
    >>> data = pd.DataFrame({"target": [t for t in range(6) for _ in range(4)],
    ...                      "rating": ratings})
    >>> icc(data, value="rating", group="target")[["statistic", "value"]].round(2)
              statistic  value
    0              ICC1   0.17
    1              ICC2   0.44
    2  mean_reliability   0.44
    """
    groups = group_moments(data, value=value, group=group)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AggregationWarning)
        result = icc_from_groups(
            groups, level=level, alpha=alpha, group_size=group_size
        )
    for warning in caught:
        warnings.warn(warning.message, warning.category, stacklevel=2)
    return result


def respondents_for_reliability(icc1: float, target: float = 0.70) -> float:
    """Respondents per unit needed for a unit mean to reach a reliability.

    Parameters
    ----------
    icc1
        ICC(1) of the answer, strictly between 0 and 1.
    target
        Wanted reliability of the unit mean (ICC(2)), strictly between 0 and 1.

    Returns
    -------
    float
        The number of respondents n; round it up for planning.

    Notes
    -----
    Solving Spearman-Brown, target = n ICC1 / (1 + (n - 1) ICC1), for n:

        n = target (1 - ICC1) / (ICC1 (1 - target))

    Examples
    --------
    >>> round(respondents_for_reliability(0.10, target=0.70), 2)
    21.0
    """
    for name, number in (("icc1", icc1), ("target", target)):
        if not 0 < number < 1:
            raise InputError(f"{name}: must be strictly between 0 and 1, got {number}")
    return target * (1 - icc1) / (icc1 * (1 - target))
