"""Listing the programme's unit records: recognitions (Reward) and actions taken
on feedback (Listen).

These are programme records an administrator typed in about units, not survey
answers: they are listed as stored, without the privacy gate. Their free text
(``note``, ``description``) is shown to whoever may list the unit, so it should
not name employees.

>>> import excx, pyarrow as pa
>>> from excx.journey import programme
>>> store = excx.connect("duckdb://:memory:"); store.init()
>>> store.write({"units": pa.table({"unit_id": ["b1"], "name": ["B1"],
...                                 "kind": ["branch"]})})
>>> _ = programme.recognise(store, unit_id="b1", period="2025-04-17", kind="award")
>>> recognitions(store, period="2025-04-01")[["unit_id", "kind"]].values.tolist()
[['b1', 'award']]
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import pandas as pd

from excx.errors import InputError
from excx.journey.programme import DateLike, parse_date
from excx.store import Store

__all__ = ["recognitions", "feedback_actions", "ACTION_STATUSES"]

ACTION_STATUSES = ("open", "closed")


def recognitions(
    store: Store,
    *,
    units: Sequence[str] | None = None,
    period: DateLike | None = None,
    activity_id: str | None = None,
) -> pd.DataFrame:
    """Recognitions, latest month first.

    Parameters
    ----------
    units
        Keep those of these units; None: every unit.
    period
        Keep those of this month (any day of it); None: every month.
    activity_id
        Keep those linked to this activity.

    Returns
    -------
    pandas.DataFrame
        ``recognition_id, unit_id, period`` (the month's first day), ``kind,
        activity_id, note``; ordered by period (latest first), unit, id.
    """
    table = store.table("recognitions")
    if units is not None:
        table = table.filter(table.unit_id.isin(list(units)))
    if period is not None:
        month = parse_date(period, field="period").replace(day=1)
        table = table.filter(table.period == month)
    if activity_id is not None:
        table = table.filter(table.activity_id == activity_id)
    ordered = table.order_by([ibis.desc("period"), "unit_id", "recognition_id"])
    columns = ["recognition_id", "unit_id", "period", "kind", "activity_id", "note"]
    return store.to_pyarrow(ordered.select(*columns)).to_pandas()


def feedback_actions(
    store: Store,
    *,
    units: Sequence[str] | None = None,
    status: str | None = None,
) -> pd.DataFrame:
    """Actions taken on feedback, latest opened first.

    Parameters
    ----------
    units
        Keep those of these units; None: every unit.
    status
        ``open`` (no ``closed_on``) or ``closed``; None: both.

    Returns
    -------
    pandas.DataFrame
        ``action_id, unit_id, opened_on, closed_on, description``; ordered by
        ``opened_on`` (latest first), unit, id.

    Raises
    ------
    InputError
        An unknown `status`, naming the accepted ones.
    """
    table = store.table("feedback_actions")
    if units is not None:
        table = table.filter(table.unit_id.isin(list(units)))
    if status is not None:
        if status not in ACTION_STATUSES:
            accepted = ", ".join(ACTION_STATUSES)
            raise InputError(f"status={status!r}; accepted: {accepted}")
        closed = table.closed_on.notnull()
        table = table.filter(closed if status == "closed" else ~closed)
    ordered = table.order_by([ibis.desc("opened_on"), "unit_id", "action_id"])
    columns = ["action_id", "unit_id", "opened_on", "closed_on", "description"]
    return store.to_pyarrow(ordered.select(*columns)).to_pandas()
