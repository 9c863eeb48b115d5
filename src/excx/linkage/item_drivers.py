"""Which engagement items go with unit eNPS and unit NPS: key drivers across units.

The engine averages every employee item per unit; the outcome per unit comes from
:mod:`excx.metrics` (so unit eNPS has passed the privacy gate, and hidden units are
left out); :func:`excx.linkage.key_drivers` then splits the R² of the outcome on
the item means among the items.

>>> import excx
>>> store = excx.connect("duckdb://:memory:")
>>> store.init()
>>> item_drivers(store).empty
True
"""

from __future__ import annotations

import pandas as pd

import excx.metrics
from excx.errors import InputError
from excx.linkage.drivers import key_drivers
from excx.store import Store

__all__ = ["item_means", "item_drivers"]

_OUTCOMES = ("nps", "enps")


def item_means(store: Store) -> pd.DataFrame:
    """Mean answer (1–5) to each employee item per unit, one column per item.

    Returns
    -------
    pandas.DataFrame
        ``unit_id`` then one column per ``item_id``; aggregated in the engine.
    """
    items = store.table("employee_items")
    responses = store.table("employee_responses").select("response_id", "unit_id")
    rows = items.join(responses, "response_id")
    means = rows.group_by(["unit_id", "item_id"]).aggregate(
        mean=rows.value.cast("float64").mean()
    )
    frame = store.to_pyarrow(means).to_pandas()
    if frame.empty:
        return pd.DataFrame(columns=["unit_id"])
    wide = frame.pivot(index="unit_id", columns="item_id", values="mean")
    return wide.reset_index().rename_axis(columns=None)


def item_drivers(
    store: Store,
    *,
    outcome: str = "nps",
    items: tuple[str, ...] | None = None,
    method: str = "relative_weights",
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Key drivers of unit NPS or unit eNPS among the units' engagement items.

    Parameters
    ----------
    store
        The open store.
    outcome
        ``nps`` (customers of the unit) or ``enps`` (its employees; units the
        privacy gate hides are left out).
    items
        Item ids to use; None takes every employee item.
    method, n_boot, seed, level
        As for :func:`excx.linkage.key_drivers`.

    Returns
    -------
    pandas.DataFrame
        The frame of :func:`excx.linkage.key_drivers` (``driver, method, n,
        weight, share, ci_low, ci_high, r2, reason``), plus ``outcome``; empty
        when the store has no employee items.

    Notes
    -----
    One row per unit: its outcome over the whole store and its mean answer to
    each item. The weights are associations across units, not effects.
    """
    if outcome not in _OUTCOMES:
        raise InputError(f"outcome={outcome!r}; accepted: {', '.join(_OUTCOMES)}")
    means = item_means(store)
    drivers = [c for c in means.columns if c != "unit_id"]
    if items is not None:
        unknown = sorted(set(items) - set(drivers))
        if unknown:
            raise InputError(
                f"items {unknown} have no answers; items in the store: "
                f"{', '.join(drivers)}"
            )
        drivers = list(items)
    if not drivers:
        return pd.DataFrame()

    scores = excx.metrics.compute(store, outcome, by=("unit_id",))
    scores = scores.loc[~scores["suppressed"] & scores["value"].notna()]
    data = means.merge(
        scores[["unit_id", "value"]].rename(columns={"value": outcome}), on="unit_id"
    )
    result = key_drivers(
        data,
        outcome=outcome,
        drivers=drivers,
        method=method,
        n_boot=n_boot,
        seed=seed,
        level=level,
    )
    return result.assign(outcome=outcome)
