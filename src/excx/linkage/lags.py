"""Lagged and lead copies of panel columns within units.

Periods are month or quarter starts or integers; a lag never bridges a gap in a
unit's periods.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from excx.errors import InputError

__all__ = ["with_lags"]


def _period_ordinal(values: pd.Series) -> pd.Series:
    """Consecutive periods as consecutive integers (months, quarters, years)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        months = values.dt.year * 12 + values.dt.month - 1
        distinct = np.unique(months.dropna().to_numpy())
        step = int(np.diff(distinct).min()) if len(distinct) > 1 else 1
        return (months // step).astype("int64")
    if pd.api.types.is_integer_dtype(values):
        return values.astype("int64")
    raise InputError(
        f"period column has dtype {values.dtype}; accepted: datetime (month or "
        "quarter starts) or integer periods"
    )


def with_lags(
    panel: pd.DataFrame,
    columns: Sequence[str],
    lags: Sequence[int] = (1,),
    *,
    unit: str = "unit_id",
    period: str = "period",
) -> pd.DataFrame:
    """Add lagged and lead copies of columns within each unit.

    Parameters
    ----------
    panel
        One row per unit and period.
    columns
        Columns to shift.
    lags
        Positive k adds ``<col>_lag<k>`` (value k periods earlier); negative k
        adds ``<col>_lead<|k|>`` (value |k| periods later).
    unit, period
        Key columns. Periods are datetimes (month or quarter starts; the step
        is the smallest gap between distinct periods) or integers.

    Returns
    -------
    pandas.DataFrame
        A copy of ``panel`` with the new columns. A value is null when the unit
        has no row exactly k periods away (gaps are never bridged).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"unit_id": ["a", "a", "a"], "enps": [10.0, 20.0, 30.0],
    ...     "period": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-04-01"])})
    >>> with_lags(p, ["enps"])["enps_lag1"].tolist()
    [nan, 10.0, nan]
    """
    missing = [c for c in [unit, period, *columns] if c not in panel.columns]
    if missing:
        raise InputError(f"panel has no column(s) {missing}; it has {list(panel)}")
    if panel.duplicated([unit, period]).any():
        raise InputError(f"panel has duplicate ({unit}, {period}) rows")

    out = panel.copy()
    ordinal = _period_ordinal(out[period])
    source = out[[unit, *columns]].assign(_ordinal=ordinal)
    for k in lags:
        if k == 0:
            continue
        suffix = f"_lag{k}" if k > 0 else f"_lead{-k}"
        shifted = source.assign(_ordinal=source["_ordinal"] + k).rename(
            columns={c: f"{c}{suffix}" for c in columns}
        )
        merged = pd.DataFrame({unit: out[unit], "_ordinal": ordinal}).merge(
            shifted, on=[unit, "_ordinal"], how="left", validate="many_to_one"
        )
        for c in columns:
            out[f"{c}{suffix}"] = merged[f"{c}{suffix}"].to_numpy()
    return out


def _term(column: str, lag: int) -> str:
    return f"{column}_lag{lag}" if lag > 0 else column
