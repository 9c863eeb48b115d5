"""Human touch: KPIs by who served, preference for a person, hand-off costs.

KPIs come from :func:`excx.metrics.compute` (each metric defined once) and
intervals from :mod:`excx.metrics.intervals`; the hand-off model runs on cells
(unit × period × hand-off) that the engine aggregates.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import ibis
import numpy as np
import pandas as pd
from linearmodels.iv.absorbing import AbsorbingLS
from scipy import stats

from excx.channels.journeys import Span, answers_in, journey_responses
from excx.errors import InputError, SmallSampleWarning
from excx.metrics import compute
from excx.metrics._rows import PERIODS
from excx.metrics.intervals import wilson_interval
from excx.metrics.kpis import KPIS, statistics
from excx.store import Store

__all__ = ["by_channel", "prefers_person", "handoff_effect", "HANDOFF_COLUMNS"]

log = logging.getLogger("excx")

HANDOFF_COLUMNS = [
    "term",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "p_value",
    "n",
    "n_units",
]


def by_channel(
    store: Store, *, kpis: Sequence[str] = ("nps", "csat", "ces"), **options
) -> pd.DataFrame:
    """NPS, CSAT and CES per channel × served_by, with intervals.

    A wrapper of :func:`excx.metrics.compute` with ``by=("channel",
    "served_by")``; `options` (``level``, ``ci``, ``where``, …) pass through.
    Returns the frames of every KPI stacked, sorted by kpi, channel, served_by.

    Examples
    --------
    >>> import excx
    >>> store = excx.connect("duckdb://:memory:"); store.init()
    >>> list(by_channel(store).columns)[:4]
    ['channel', 'served_by', 'kpi', 'n']
    """
    frames = [
        compute(store, name, by=("channel", "served_by"), **options) for name in kpis
    ]
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(["kpi", "channel", "served_by"], ignore_index=True)


def prefers_person(
    store: Store,
    *,
    item: str = "prefers_person",
    threshold: int = 4,
    by: Sequence[str] = (),
    level: float = 0.95,
    units: Sequence[str] | None = None,
    between: Span | None = None,
) -> pd.DataFrame:
    """Share of customers who would rather deal with a person, Wilson interval.

    Parameters
    ----------
    item
        The ``customer_items.item_id`` asking it (1–5 agreement).
    threshold
        Answers at or above it count as preferring a person.
    by
        Grouping columns of ``customer_responses``: any of ``channel``,
        ``served_by``, ``unit_id``.
    units, between
        Keep the answers of these units, submitted in ``[start, end)``
        (:func:`excx.channels.journeys.answers_in`); None: all of them.

    Returns
    -------
    pandas.DataFrame
        The `by` columns, then ``item, n, value`` (percent preferring a person),
        ``ci_low, ci_high``.

    Notes
    -----
    ``value = 100 × (answers ≥ threshold) / n`` over the item's answers; the
    interval is :func:`excx.metrics.intervals.wilson_interval` × 100.
    """
    allowed = ("channel", "served_by", "unit_id")
    unknown = [c for c in by if c not in allowed]
    if unknown:
        raise InputError(f"by={unknown}; accepted: {', '.join(allowed)}")
    items = store.table("customer_items")
    items = items.filter((items.item_id == item) & items.value.notnull())
    rows = items.join(store.table("customer_responses"), "response_id")
    rows = answers_in(rows, units=units, between=between)
    cells = rows.group_by(list(by)) if by else rows
    cells = cells.aggregate(
        n=rows.count(), successes=rows.count(where=rows.value >= threshold)
    )
    frame = store.to_pyarrow(cells).to_pandas()
    frame = frame[frame["n"] > 0].sort_values(list(by) or ["n"], ignore_index=True)
    low, high = wilson_interval(frame["successes"], frame["n"], level=level)
    return frame[list(by)].assign(
        item=item,
        n=frame["n"].astype("int64"),
        value=100 * frame["successes"] / frame["n"],
        ci_low=100 * low,
        ci_high=100 * high,
    )


def handoff_effect(
    store: Store,
    *,
    period: str = "month",
    level: float = 0.95,
    units: Sequence[str] | None = None,
    between: Span | None = None,
) -> pd.DataFrame:
    """What a bot-to-human hand-off costs in NPS, and whether engaged units offset it.

    Compares answered journeys with a bot step followed by a human step against
    journeys served by people only, within the unit that answered (the
    response's ``unit_id``) and period, and lets the gap vary with the unit's
    eNPS.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`HANDOFF_COLUMNS`, two rows: ``handoff`` (NPS points, at
        the average unit eNPS) and ``handoff_x_enps`` (change of that gap per
        +1 eNPS point of the unit: positive means more engaged units recover
        more of the loss). ``n`` counts answers, ``n_units`` units.

    Notes
    -----
    Weighted least squares on unit × period × hand-off cells (weights = answers,
    which reproduces the answer-level regression), unit and period effects
    absorbed::

        NPS_c = a_u + g_t + b · H_c + d · H_c · (eNPS_u − mean eNPS) + e_c

    eNPS_u is the unit's eNPS over the whole store from
    :func:`excx.metrics.enps` (privacy-gated: suppressed units are left out with
    a :class:`SmallSampleWarning`). Standard errors are clustered by unit; the
    intervals use t on G − 1 degrees of freedom. Other journeys (bot only,
    self-service) are left out. With `units` or `between`, only answers of
    those units submitted in ``[start, end)`` enter the cells
    (:func:`excx.channels.journeys.answers_in`); each unit's eNPS is still the
    gated whole-store figure.
    """
    if period not in PERIODS:
        raise InputError(f"period={period!r}; accepted: {', '.join(PERIODS)}")
    cells = _handoff_cells(store, period, units=units, between=between)
    enps = compute(store, "enps", by=("unit_id",))
    hidden = enps.loc[enps["suppressed"], "unit_id"]
    if len(hidden):
        warnings.warn(
            SmallSampleWarning(
                f"{len(hidden)} unit(s) left out: their eNPS is suppressed"
            ),
            stacklevel=2,
        )
    cells = cells.merge(
        enps.loc[~enps["suppressed"], ["unit_id", "value"]].rename(
            columns={"value": "unit_enps"}
        ),
        on="unit_id",
    )
    if cells.empty or cells["handoff"].nunique() < 2:
        raise InputError(
            "no answered journeys of both kinds (bot-to-human and human-only) in "
            "units with a shown eNPS; import interaction logs linked to responses"
        )
    return _fit(cells, level)


def _handoff_cells(store: Store, period: str, **selection) -> pd.DataFrame:
    rows = journey_responses(store)
    rows = answers_in(rows, unit_column="answer_unit", **selection)
    rows = rows.filter(
        rows.nps.notnull()
        & rows.answer_unit.notnull()
        & (rows.handoff | rows.human_only)
    )
    rows = rows.mutate(
        unit_id=rows.answer_unit,
        period=rows.submitted_at.truncate(PERIODS[period]).cast("date"),
        handoff=ibis.ifelse(rows.handoff, 1, 0),
    )
    reductions = statistics(KPIS["nps"], rows.nps)
    grouped = rows.group_by(["unit_id", "period", "handoff"]).aggregate(**reductions)
    frame = store.to_pyarrow(grouped).to_pandas()
    frame["nps"] = 100 * (frame["promoters"] - frame["detractors"]) / frame["n"]
    return frame


def _fit(cells: pd.DataFrame, level: float) -> pd.DataFrame:
    centred = cells["unit_enps"] - np.average(cells["unit_enps"], weights=cells["n"])
    exog = pd.DataFrame(
        {
            "handoff": cells["handoff"].astype(float),
            "handoff_x_enps": cells["handoff"] * centred,
        }
    )
    absorb = pd.DataFrame(
        {
            "unit": cells["unit_id"].astype("category"),
            "period": cells["period"].astype(str).astype("category"),
        }
    )
    clusters = pd.Series(pd.factorize(cells["unit_id"])[0], name="unit")
    fit = AbsorbingLS(
        cells["nps"], exog, absorb=absorb, weights=cells["n"].astype(float)
    ).fit(cov_type="clustered", clusters=clusters)
    n_units = int(cells["unit_id"].nunique())
    quantile = stats.t.ppf(0.5 + level / 2, max(n_units - 1, 1))
    estimate = fit.params[exog.columns].to_numpy(dtype=float)
    se = fit.std_errors[exog.columns].to_numpy(dtype=float)
    log.info("hand-off model on %d cells of %d units", len(cells), n_units)
    return pd.DataFrame(
        {
            "term": list(exog.columns),
            "estimate": estimate,
            "std_error": se,
            "ci_low": estimate - quantile * se,
            "ci_high": estimate + quantile * se,
            "p_value": 2 * stats.t.sf(np.abs(estimate / se), max(n_units - 1, 1)),
            "n": int(cells["n"].sum()),
            "n_units": n_units,
        }
    )
