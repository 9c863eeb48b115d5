"""Test the difference of a KPI between two groups or two periods.

>>> import excx
>>> store = excx.connect("duckdb://:memory:")
>>> store.init()
>>> compare(store, "nps", a={"channel": "web"}, b={"channel": "app"})
Traceback (most recent call last):
...
excx.errors.InputError: nps: no answers match a={'channel': 'web'}
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from excx.errors import InputError, PrivacyError
from excx.metrics import intervals, kpis
from excx.metrics._aggregate import check_options, check_where, group_statistics
from excx.metrics.compute import compute, mean_and_sd
from excx.metrics.kpis import Kpi
from excx.privacy import PrivacyRule
from excx.store import Store

__all__ = ["compare", "COMPARE_COLUMNS"]

COMPARE_COLUMNS = [
    "kpi",
    "n_a",
    "value_a",
    "n_b",
    "value_b",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "test",
]
_TESTS = {"nps": ("adjusted-wald", "wald"), "proportion": ("z",), "mean": ("welch",)}
# scipy is imported inside the test functions: `import excx.metrics` stays light.


def compare(
    store: Store,
    kpi: str,
    *,
    a: Mapping[str, object],
    b: Mapping[str, object],
    period: str = "month",
    test: str | None = None,
    level: float = 0.95,
    rule: PrivacyRule | None = None,
) -> pd.DataFrame:
    """Difference ``b − a`` of a KPI between two independent groups, with a test.

    Parameters
    ----------
    store
        The open store.
    kpi
        ``nps``, ``enps``, ``csat``, ``ces`` or ``engagement``.
    a, b
        Filters selecting each group, with the keys and values of ``where`` in
        :func:`excx.metrics.compute` (e.g. ``{"unit_id": "u1"}`` or
        ``{"period": "2026-01-01"}``). The groups should not overlap.
    period
        Grain of ``period`` filters.
    test
        NPS/eNPS: ``adjusted-wald`` (default) or ``wald``; CSAT: ``z``; CES and
        engagement: ``welch``.
    level
        Confidence level of the interval of the difference.
    rule
        An ``excx.privacy.PrivacyRule``; None: the default one.

    Returns
    -------
    pandas.DataFrame
        One row: ``kpi, n_a, value_a, n_b, value_b, difference, ci_low, ci_high,
        p_value, test``; ``difference = value_b − value_a``.

    Raises
    ------
    PrivacyError
        For an employee KPI, unless both groups are single cells (one value per
        column, the same columns) that :func:`excx.metrics.compute` grouped by
        those columns shows: a group under the minimum, or one hidden by
        complementary suppression, cannot be compared.

    Notes
    -----
    NPS: ``z = (c_b − c_a) / √(V_a + V_b)`` with ``c`` and ``V`` the (adjusted)
    centre and variance of :func:`excx.metrics.intervals.nps_variance`; the
    interval is ``100 (c_b − c_a ± z √(V_a + V_b))``. CSAT: two-proportion z
    test with the pooled share, Wald interval with unpooled variances. CES and
    engagement: Welch's t test and interval (Welch–Satterthwaite df).
    """
    definition = kpis.kpi(kpi)
    method = test or _TESTS[definition.kind][0]
    if method not in _TESTS[definition.kind]:
        raise InputError(
            f"test={test!r} is not available for {definition.name}; accepted: "
            f"{', '.join(_TESTS[definition.kind])}"
        )
    check_options(period, level)
    if definition.audience == "employee":
        _refuse_hidden_groups(store, definition, a, b, period=period, rule=rule)
    groups = []
    for label, where in (("a", a), ("b", b)):
        where = check_where(definition, where)
        cells = group_statistics(
            store, definition, by=(), period=period, rollup=False, where=where
        )
        if cells.empty or int(cells["n"].iloc[0]) == 0:
            raise InputError(f"{definition.name}: no answers match {label}={where}")
        groups.append(cells.iloc[0])

    difference, low, high, p_value = _TEST_FUNCTIONS[definition.kind](
        definition, groups[0], groups[1], method=method, level=level
    )
    value_a, value_b = (_value(definition, g) for g in groups)
    row = {
        "kpi": definition.name,
        "n_a": int(groups[0]["n"]),
        "value_a": value_a,
        "n_b": int(groups[1]["n"]),
        "value_b": value_b,
        "difference": difference,
        "ci_low": low,
        "ci_high": high,
        "p_value": p_value,
        "test": method,
    }
    return pd.DataFrame([row], columns=COMPARE_COLUMNS)


def _refuse_hidden_groups(
    store: Store,
    definition: Kpi,
    a: Mapping[str, object],
    b: Mapping[str, object],
    *,
    period: str,
    rule: PrivacyRule | None,
) -> None:
    """Employee groups must be single cells that the privacy gate shows.

    Each group is one value per column, both on the same columns, and both
    must be visible in the gated :func:`excx.metrics.compute` by those columns;
    so a comparison reveals nothing a published table does not.
    """
    if set(a) != set(b) or not a:
        raise PrivacyError(
            f"{definition.name}: compare employee groups on the same columns, one "
            f"value each (got a on {sorted(a)}, b on {sorted(b)})"
        )
    for label, where in (("a", a), ("b", b)):
        if any(isinstance(v, list | tuple | set | frozenset) for v in where.values()):
            raise PrivacyError(
                f"{definition.name}: group {label}={dict(where)} pools several "
                "values; compare employee groups one value per column"
            )
    by = tuple(a)
    both = {c: [a[c], b[c]] for c in by}
    gated = compute(store, definition.name, by=by, period=period, where=both, rule=rule)
    for label, where in (("a", a), ("b", b)):
        match = np.ones(len(gated), dtype=bool)
        for column, value in where.items():
            match &= (gated[column].astype(str) == str(value)).to_numpy()
        rows = gated[match]
        if len(rows) and rows["suppressed"].any():
            raise PrivacyError(
                f"{definition.name}: group {label}={dict(where)} is suppressed by "
                "the privacy gate (too few respondents, or it would reveal a "
                "group that has); it cannot be compared"
            )


def _value(definition: Kpi, cells: pd.Series) -> float:
    n = float(cells["n"])
    if definition.kind == "nps":
        return 100 * (float(cells["promoters"]) - float(cells["detractors"])) / n
    if definition.kind == "proportion":
        return 100 * float(cells["successes"]) / n
    return float(cells["total"]) / n


def _nps_test(definition, a, b, *, method, level):
    from scipy import stats

    centres, variances = [], []
    for group in (a, b):
        centre, variance = intervals.nps_variance(
            np.array([group["n"]]),
            np.array([group["promoters"]]),
            np.array([group["detractors"]]),
            adjusted=method == "adjusted-wald",
        )
        centres.append(float(centre[0]))
        variances.append(float(variance[0]))
    shift = centres[1] - centres[0]
    se = np.sqrt(sum(variances))
    half = intervals.z_value(level) * se
    p_value = float(2 * stats.norm.sf(abs(shift) / se)) if se > 0 else np.nan
    difference = _value(definition, b) - _value(definition, a)
    return difference, 100 * (shift - half), 100 * (shift + half), p_value


def _proportion_test(definition, a, b, *, method, level):
    from scipy import stats

    n_a, n_b = float(a["n"]), float(b["n"])
    x_a, x_b = float(a["successes"]), float(b["successes"])
    p_a, p_b = x_a / n_a, x_b / n_b
    pooled = (x_a + x_b) / (n_a + n_b)
    se_pooled = np.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    p_value = (
        float(2 * stats.norm.sf(abs(p_b - p_a) / se_pooled))
        if se_pooled > 0
        else np.nan
    )
    half = intervals.z_value(level) * np.sqrt(
        p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b
    )
    difference = p_b - p_a
    return (
        100 * difference,
        100 * (difference - half),
        100 * (difference + half),
        p_value,
    )


def _mean_test(definition, a, b, *, method, level):
    from scipy import stats

    frame = pd.DataFrame([a, b])
    means, sds = mean_and_sd(frame)
    n = frame["n"].to_numpy(dtype=float)
    if np.any(n < 2):
        raise InputError(
            f"{definition.name}: Welch's t test needs at least 2 answers per group; "
            f"got {int(n[0])} (a) and {int(n[1])} (b)"
        )
    parts = sds**2 / n
    se = float(np.sqrt(parts.sum()))
    dof = float(parts.sum() ** 2 / np.sum(parts**2 / (n - 1)))
    difference = float(means[1] - means[0])
    p_value = float(2 * stats.t.sf(abs(difference) / se, dof)) if se > 0 else np.nan
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * se
    return difference, difference - half, difference + half, p_value


_TEST_FUNCTIONS = {"nps": _nps_test, "proportion": _proportion_test, "mean": _mean_test}
