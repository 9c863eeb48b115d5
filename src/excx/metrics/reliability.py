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
    count. The engine returns, per pair of items (i, j), the number of
    respondents and the sums ``Σ v_i``, ``Σ v_j`` and ``Σ v_i v_j``; the
    covariance matrix ``(Σ v_i v_j − Σ v_i Σ v_j / n) / (n − 1)`` is built from
    those k² numbers.

    Examples
    --------
    >>> import numpy as np
    >>> round(alpha_from_covariance(np.array([[1.0, 0.5], [0.5, 1.0]])), 4)
    0.6667
    """
    sums = _item_pair_sums(store, where=dict(where or {}), period=period)
    frame = store.to_pyarrow(sums).to_pandas()
    if frame.empty:
        return math.nan
    n = int(frame["n"].iloc[0])
    if n < max(min_respondents, 2):
        return math.nan

    frame = frame.assign(
        covariance=(frame["total_ab"] - frame["total_a"] * frame["total_b"] / n)
        / (n - 1)
    )
    matrix = frame.pivot(index="item_a", columns="item_b", values="covariance")
    return alpha_from_covariance(matrix.to_numpy(dtype=float))


def alpha_from_covariance(covariance: np.ndarray) -> float:
    """Cronbach's alpha ``k/(k−1) (1 − tr Σ / 1ᵀΣ1)`` of a k × k covariance matrix."""
    k = covariance.shape[0]
    total = covariance.sum()
    if k < 2 or not total > 0:
        return math.nan
    return float(k / (k - 1) * (1 - np.trace(covariance) / total))


def _item_pair_sums(store: Store, *, where: dict, period: str):
    """Per item pair: complete respondents and the sums alpha needs, as Ibis."""
    responses = store.table("employee_responses")
    if where:
        responses = add_dimensions(store, responses, needed=where, period=period)
        responses = responses.filter(filter_predicates(responses, where, list(where)))
    items = store.table("employee_items").semi_join(
        responses.select("response_id"), "response_id"
    )

    # Executed on its own: as a scalar subquery ibis mis-correlates it (DuckDB) or
    # emits a LEFT SEMI JOIN that PostgreSQL rejects.
    item_count = int(store.execute(items.item_id.nunique()))
    complete = (
        items.group_by("response_id")
        .aggregate(answered=_.item_id.nunique())
        .filter(_.answered == item_count)
    )
    answers = items.semi_join(complete, "response_id").select(
        "response_id", item_a="item_id", value_a=_.value.cast("float64")
    )
    partner = answers.select(
        partner_id="response_id", item_b="item_a", value_b="value_a"
    )
    pairs = answers.join(partner, answers.response_id == partner.partner_id)
    return pairs.group_by(["item_a", "item_b"]).aggregate(
        n=_.response_id.count(),
        total_a=_.value_a.sum(),
        total_b=_.value_b.sum(),
        total_ab=(_.value_a * _.value_b).sum(),
    )
