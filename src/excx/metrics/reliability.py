"""Cronbach's alpha of the engagement items, from item covariance sums in the engine.

>>> import excx
>>> store = excx.connect("duckdb://:memory:")
>>> store.init()
>>> import math; math.isnan(cronbach_alpha(store))
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from ibis import _

from excx.metrics._rows import add_dimensions, filter_predicates
from excx.metrics.items import engagement_items
from excx.store import Store

__all__ = ["cronbach_alpha", "alpha_from_covariance"]

# Employee privacy threshold (DESIGN.md): alpha over fewer respondents is not shown.
_MIN_RESPONDENTS = 5


def cronbach_alpha(
    store: Store,
    *,
    where: Mapping[str, object] | None = None,
    period: str = "month",
    min_respondents: int = _MIN_RESPONDENTS,
) -> float:
    """Cronbach's alpha of the employee engagement items over the respondents in scope.

    Parameters
    ----------
    store
        The open store.
    where
        The same filters as :func:`excx.metrics.compute` (unit_id, region, role,
        period); all of them restrict the respondents.
    period
        Grain of a ``period`` filter.
    min_respondents
        Below this many complete respondents alpha is NaN (privacy threshold).

    Returns
    -------
    float
        ``k / (k − 1) × (1 − Σ σ²_i / Σ_ij σ_ij)``, NaN when fewer than two items
        or too few respondents.

    Notes
    -----
    Only respondents who answered every item seen in scope (complete cases)
    count. The engine returns, per item, n, ``Σ v`` and ``Σ v²``, and the same
    three numbers over the respondents' summed scores; since the variance of
    the sum equals the sum of the item covariance matrix, this is the same
    alpha as :func:`alpha_from_covariance` without a k² self-join.

    Examples
    --------
    >>> import numpy as np
    >>> round(alpha_from_covariance(np.array([[1.0, 0.5], [0.5, 1.0]])), 4)
    0.6667
    """
    items, totals = _item_and_total_sums(store, where=dict(where or {}), period=period)
    items = store.to_pyarrow(items).to_pandas()
    totals = store.to_pyarrow(totals).to_pandas()
    if items.empty or totals.empty:
        return math.nan
    n = int(totals["n"].iloc[0])
    if n < max(min_respondents, 2) or len(items) < 2:
        return math.nan
    item_variance = _variance(items["n"], items["total"], items["total_sq"])
    total_variance = _variance(totals["n"], totals["total"], totals["total_sq"])
    return alpha_from_variances(item_variance.to_numpy(), float(total_variance.iloc[0]))


def alpha_from_variances(item_variances: np.ndarray, total_variance: float) -> float:
    """Cronbach's alpha ``k/(k−1) (1 − Σ σ²_i / σ²_total)``.

    Examples
    --------
    >>> round(alpha_from_variances(np.array([1.0, 1.0]), 3.0), 4)
    0.6667
    """
    k = len(item_variances)
    if k < 2 or not total_variance > 0:
        return math.nan
    return float(k / (k - 1) * (1 - item_variances.sum() / total_variance))


def _variance(n, total, total_sq):
    """Sample variance from the count, the sum and the sum of squares."""
    return (total_sq - total * total / n) / (n - 1)


def alpha_from_covariance(covariance: np.ndarray) -> float:
    """Cronbach's alpha ``k/(k−1) (1 − tr Σ / 1ᵀΣ1)`` of a k × k covariance matrix."""
    k = covariance.shape[0]
    total = covariance.sum()
    if k < 2 or not total > 0:
        return math.nan
    return float(k / (k - 1) * (1 - np.trace(covariance) / total))


def _item_and_total_sums(store: Store, *, where: dict, period: str):
    """Per item, and over respondents' summed scores: n, Σx and Σx², as Ibis.

    Only complete respondents (every item seen in scope answered) count.
    """
    responses = store.table("employee_responses")
    if where:
        responses = add_dimensions(store, responses, needed=where, period=period)
        responses = responses.filter(filter_predicates(responses, where, list(where)))
    items = engagement_items(store).semi_join(
        responses.select("response_id"), "response_id"
    )
    # Executed on its own: as a scalar subquery ibis mis-correlates it (DuckDB) or
    # emits a LEFT SEMI JOIN that PostgreSQL rejects.
    item_count = int(store.execute(items.item_id.nunique()))
    items = items.mutate(value=_.value.cast("float64"))
    per_respondent = (
        items.group_by("response_id")
        .aggregate(answered=_.item_id.nunique(), score=_.value.sum())
        .filter(_.answered == item_count)
    )
    totals = per_respondent.aggregate(
        n=_.score.count(), total=_.score.sum(), total_sq=(_.score * _.score).sum()
    )
    complete = items.semi_join(per_respondent, "response_id")
    per_item = complete.group_by("item_id").aggregate(
        n=_.value.count(), total=_.value.sum(), total_sq=(_.value * _.value).sum()
    )
    return per_item, totals
