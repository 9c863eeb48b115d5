"""Customer journeys from interaction logs: paths, their NPS, unit attribution.

A journey is the events of one ``customer_ref`` in time order; its path is the
sequence of ``channel:served_by`` steps; its survey answer is the customer
response the log links (``response_id``). Every step, path and sum is computed in
the store's engine; only one row per path or unit reaches pandas. NPS values come
from the one definition in :mod:`excx.metrics` (its sufficient statistics and
interval functions).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

from excx.metrics.compute import estimate
from excx.metrics.intervals import nps_interval
from excx.metrics.kpis import DETRACTOR_MAX, KPIS, PROMOTER_MIN, statistics
from excx.store import Store

__all__ = [
    "journeys",
    "journey_responses",
    "answers_in",
    "common_paths",
    "attributed_nps",
]

PATH_SEPARATOR = " > "
Span = tuple[dt.date, dt.date]


def journeys(store: Store) -> ir.Table:
    """One row per customer_ref, as an Ibis expression (nothing runs yet).

    Columns: ``customer_ref, steps, path, bot_steps, human_steps, handoff``
    (a bot step directly followed by a human step), ``human_only`` (every step
    served by a person), ``response_id`` (the linked answer, if any),
    ``started_at``, ``ended_at``. Steps at the same timestamp are ordered by
    channel, then served_by (the store keeps no file order).

    On DuckDB the path is built by sorting each customer's list of (time,
    channel, served_by) steps: its ordered ``string_agg`` over a million
    customers took five times as long. PostgreSQL keeps the ordered aggregate
    (it cannot sort a list of records).
    """
    events = store.table("interactions")
    order = [events.occurred_at, events.channel, events.served_by]
    window = ibis.window(group_by=events.customer_ref, order_by=order)
    events = events.mutate(
        previous=events.served_by.lag().over(window),
        step=events.channel.concat(":", events.served_by),
    )
    handoff = ((events.previous == "bot") & (events.served_by == "human")).fill_null(
        False
    )
    grouped = events.group_by("customer_ref").aggregate(
        steps=events.count(),
        path=_path(events, order, sorted_list=store.backend == "duckdb"),
        bot_steps=events.count(where=events.served_by == "bot"),
        human_steps=events.count(where=events.served_by == "human"),
        handoff=handoff.any(),
        response_id=events.response_id.max(),
        started_at=events.occurred_at.min(),
        ended_at=events.occurred_at.max(),
    )
    if store.backend == "duckdb":
        grouped = grouped.mutate(
            path=grouped.path.sort()
            .map(lambda step: step.channel.concat(":", step.served_by))
            .join(PATH_SEPARATOR)
        )
    return grouped.mutate(human_only=grouped.human_steps == grouped.steps)


def _path(events: ir.Table, order: list, *, sorted_list: bool) -> ir.Value:
    """The path reduction: the joined steps in `order`, or (`sorted_list`) the
    list of (time, channel, served_by) steps, to be sorted and joined after."""
    if not sorted_list:
        return events.step.group_concat(PATH_SEPARATOR, order_by=order)
    fields = {"at": order[0], "channel": order[1], "served_by": order[2]}
    return ibis.struct(fields).collect()


def journey_responses(store: Store) -> ir.Table:
    """Journeys joined to their customer response (``nps`` and its unit)."""
    paths = journeys(store)
    paths = paths.filter(paths.response_id.notnull())
    answers = store.table("customer_responses").select(
        "response_id", "nps", "submitted_at", answer_unit="unit_id"
    )
    return paths.join(answers, "response_id")


def answers_in(
    rows: ir.Table,
    *,
    units: Sequence[str] | None = None,
    between: Span | None = None,
    unit_column: str = "unit_id",
) -> ir.Table:
    """Customer answers (`rows`, with ``submitted_at``) kept to a selection.

    Parameters
    ----------
    units
        Keep answers whose `unit_column` is one of these (answers without a
        unit, such as bot and self-service ones, are then left out); None keeps
        every answer.
    between
        ``(start, end)``: keep answers submitted on or after `start` and before
        `end`; None keeps every day.

    Returns
    -------
    ibis.Table
        `rows` filtered (an expression; nothing runs).
    """
    if units is not None:
        rows = rows.filter(rows[unit_column].isin(list(units)))
    if between is not None:
        day = rows.submitted_at.cast("date")
        rows = rows.filter((day >= between[0]) & (day < between[1]))
    return rows


def common_paths(
    store: Store,
    *,
    top: int = 10,
    level: float = 0.95,
    units: Sequence[str] | None = None,
    between: Span | None = None,
) -> pd.DataFrame:
    """The most frequent journey paths and the NPS of each.

    With `units` or `between` (see :func:`answers_in`), only the journeys whose
    linked answer is in that selection count; unanswered journeys are then left
    out.

    Returns
    -------
    pandas.DataFrame
        One row per path, most journeys first: ``path, journeys, handoff,
        human_only, n`` (answers with an NPS), ``value`` (NPS), ``ci_low,
        ci_high`` (adjusted Wald, as :func:`excx.metrics.nps`).

    Notes
    -----
    NPS = 100 × (promoters − detractors) / n over the path's answered journeys.

    Examples
    --------
    >>> import excx
    >>> store = excx.connect("duckdb://:memory:"); store.init()
    >>> common_paths(store).empty
    True
    """
    rows = journeys(store)
    answers = store.table("customer_responses").select(
        "response_id", "nps", "submitted_at", answer_unit="unit_id"
    )
    rows = rows.left_join(answers, "response_id").select(
        rows, answers.nps, answers.submitted_at, answers.answer_unit
    )
    if units is not None or between is not None:
        rows = answers_in(rows, units=units, between=between, unit_column="answer_unit")
    counted = rows.group_by("path").aggregate(
        journeys=rows.count(),
        handoff=rows.handoff.any(),
        human_only=rows.human_only.all(),
        **statistics(KPIS["nps"], rows.nps),
    )
    joined = counted.order_by([ibis.desc("journeys"), "path"]).limit(top)
    frame = store.to_pyarrow(joined).to_pandas()
    frame[["n", "promoters", "detractors"]] = (
        frame[["n", "promoters", "detractors"]].fillna(0).astype("int64")
    )
    value, low, high = estimate(KPIS["nps"], frame, method="adjusted-wald", level=level)
    frame = frame.assign(value=value, ci_low=low, ci_high=high)
    frame = frame.sort_values(["journeys", "path"], ascending=[False, True])
    columns = ["path", "journeys", "handoff", "human_only", "n", "value"]
    return frame[[*columns, "ci_low", "ci_high"]].reset_index(drop=True)


def attributed_nps(store: Store, *, level: float = 0.95) -> pd.DataFrame:
    """NPS per unit, each answer shared among the units that served its journey.

    A journey's answer counts for unit u with weight ``w = steps at u / steps
    of the journey with a unit`` (digital steps without a unit are left out of
    the denominator), so every answered journey with a serving unit adds 1 in
    total.

    Returns
    -------
    pandas.DataFrame
        ``unit_id, n`` (sum of weights), ``n_effective``, ``value`` (weighted
        NPS), ``ci_low, ci_high``.

    Notes
    -----
    ``value = 100 × Σ w (promoter − detractor) / Σ w``. The interval is the Wald
    NPS interval with Kish's effective sample size ``(Σ w)² / Σ w²`` in place of
    n (the shares are kept, the counts rescaled).
    """
    events = store.table("interactions")
    served = events.filter(events.unit_id.notnull())
    per_unit = served.group_by(["customer_ref", "unit_id"]).aggregate(
        unit_steps=served.count()
    )
    per_journey = served.group_by("customer_ref").aggregate(unit_total=served.count())
    shares = per_unit.join(per_journey, "customer_ref").mutate(
        weight=lambda t: t.unit_steps.cast("float64") / t.unit_total
    )
    answered = journey_responses(store)
    answered = answered.filter(answered.nps.notnull()).select("customer_ref", "nps")
    rows = shares.join(answered, "customer_ref")
    cells = rows.group_by("unit_id").aggregate(
        n=rows.weight.sum(),
        weight_sq=(rows.weight * rows.weight).sum(),
        promoters=rows.weight.sum(where=rows.nps >= PROMOTER_MIN),
        detractors=rows.weight.sum(where=rows.nps <= DETRACTOR_MAX),
    )
    frame = store.to_pyarrow(cells).to_pandas().sort_values("unit_id")
    frame = frame.reset_index(drop=True)
    # A filtered sum over no rows is null in SQL: no promoters (detractors) = 0.
    frame[["promoters", "detractors"]] = frame[["promoters", "detractors"]].fillna(0)
    n = frame["n"].to_numpy(dtype=float)
    effective = n**2 / frame["weight_sq"].to_numpy(dtype=float)
    share_p = frame["promoters"].to_numpy(dtype=float) / n
    share_d = frame["detractors"].to_numpy(dtype=float) / n
    low, high = nps_interval(
        effective, share_p * effective, share_d * effective, level=level, adjusted=False
    )
    return pd.DataFrame(
        {
            "unit_id": frame["unit_id"].to_numpy(),
            "n": n,
            "n_effective": effective,
            "value": 100 * (share_p - share_d),
            "ci_low": low,
            "ci_high": high,
        }
    )
