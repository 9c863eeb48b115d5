"""The scored rows a KPI aggregates, with their grouping columns, as Ibis tables.

Everything here builds expressions; nothing is executed except the read of the
(small) units table for the hierarchy closure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis import _

from excx.errors import InputError
from excx.metrics.items import engagement_items
from excx.metrics.kpis import Kpi, engagement_score
from excx.store import Store

# Canonical order of the grouping columns in every output frame.
DIMENSIONS = ("unit_id", "region", "channel", "served_by", "role", "period")
PERIODS = {"month": "M", "quarter": "Q", "year": "Y"}


def scored_rows(
    store: Store,
    kpi: Kpi,
    *,
    needed: Iterable[str],
    period: str,
    rollup: bool,
    period_as_key: bool = False,
) -> ir.Table:
    """One row per answer (per ancestor unit when `rollup`): `needed` + ``score``.

    Rows whose score is null are left out: every KPI is over non-missing answers.
    With `rollup`, each answer is repeated once for every unit above its own
    (and for its own), and ``unit_id`` is that reporting unit; answers without a
    unit keep ``unit_id`` null. With `period_as_key`, ``period`` is the integer
    :func:`period_key` rather than the start date, for grouping.
    """
    needed = [d for d in DIMENSIONS if d in set(needed)]
    if kpi.column is None:
        rows = _engagement_rows(store)
    else:
        source = store.table(kpi.table)
        rows = source.mutate(score=source[kpi.column]).filter(_.score.notnull())

    if rollup:
        closure = ibis.memtable(unit_closure(units_frame(store)))
        rows = rows.left_join(closure, rows.unit_id == closure.descendant_id)
        rows = rows.mutate(unit_id=rows.ancestor_id.coalesce(rows.unit_id))
    if period_as_key and "period" in needed:
        others = set(needed) - {"period"}
        rows = add_dimensions(store, rows, needed=others, period=period)
        rows = rows.mutate(period=period_key(rows.submitted_at, period))
    else:
        rows = add_dimensions(store, rows, needed=needed, period=period)
    return rows.select(*needed, "score")


def period_key(timestamp: ir.TimestampValue, period: str) -> ir.IntegerValue:
    """The period of `timestamp` as one integer: months, quarters or years since year 0.

    Grouping on it costs the engine less than on truncated timestamps (DuckDB:
    0.3 s less over 20M answers); :func:`period_start` turns it back into the
    start date once the groups are formed.
    """
    year = timestamp.year().cast("int32")
    if period == "month":
        return year * 12 + timestamp.month().cast("int32") - 1
    if period == "quarter":
        return year * 4 + timestamp.quarter().cast("int32") - 1
    return year


def period_start(key: ir.IntegerValue, period: str) -> ir.DateValue:
    """The start date of the period numbered `key` by :func:`period_key`."""
    per_year = {"month": 12, "quarter": 4, "year": 1}[period]
    year = (key // per_year).cast("int32")
    month = (key % per_year) * (12 // per_year) + 1
    return ibis.date(year, month.cast("int32"), 1)


def add_dimensions(
    store: Store, rows: ir.Table, *, needed: Iterable[str], period: str
) -> ir.Table:
    """Add ``region`` (of the row's unit) and ``period`` to `rows` when `needed`."""
    needed = set(needed)
    if "region" in needed:
        units = store.table("units").select(region_unit_id="unit_id", region="region")
        rows = rows.left_join(units, rows.unit_id == units.region_unit_id)
    if "period" in needed:
        unit = PERIODS[period]
        rows = rows.mutate(period=rows.submitted_at.truncate(unit).cast("date"))
    return rows


def _engagement_rows(store: Store) -> ir.Table:
    """Each employee respondent's engagement index (0..100) with their response."""
    items = engagement_items(store)
    per_respondent = items.group_by("response_id").aggregate(
        mean_item=items.value.cast("float64").mean()
    )
    responses = store.table("employee_responses")
    joined = responses.join(per_respondent, "response_id")
    return joined.mutate(score=engagement_score(joined.mean_item))


def units_frame(store: Store) -> pd.DataFrame:
    """The units table (unit_id, parent_id, region, kind) as a small pandas frame."""
    units = store.table("units").select("unit_id", "parent_id", "region", "kind")
    return store.to_pyarrow(units).to_pandas()


def unit_closure(units: pd.DataFrame) -> pa.Table:
    """Every (ancestor_id, descendant_id) pair of the unit tree, self-pairs included.

    Built from the small units table by repeatedly replacing each pair's ancestor
    with its parent, one tree level per step.

    Raises
    ------
    InputError
        If ``parent_id`` links form a cycle.

    Examples
    --------
    >>> units = pd.DataFrame({"unit_id": ["c", "r", "b"],
    ...                       "parent_id": [None, "c", "r"]})
    >>> sorted(zip(*unit_closure(units).to_pydict().values()))[:3]
    [('b', 'b'), ('c', 'b'), ('c', 'c')]
    """
    parent = dict(zip(units["unit_id"], units["parent_id"], strict=True))
    level = pd.DataFrame(
        {"ancestor_id": units["unit_id"], "descendant_id": units["unit_id"]}
    )
    pairs = [level]
    for _depth in range(len(units) + 1):
        level = level.assign(ancestor_id=level["ancestor_id"].map(parent))
        level = level[level["ancestor_id"].notna()]
        if level.empty:
            break
        pairs.append(level)
    else:
        raise InputError(
            "units table: parent_id links form a cycle; each unit's parent_id must "
            "lead up to a unit without parent (the company)"
        )
    closure = pd.concat(pairs, ignore_index=True).astype("string")
    return pa.Table.from_pandas(closure, preserve_index=False).cast(
        pa.schema([("ancestor_id", pa.string()), ("descendant_id", pa.string())])
    )


def filter_predicates(
    table: ir.Table, where: Mapping[str, object], columns: Iterable[str]
) -> list[ir.BooleanValue]:
    """Ibis predicates for the `where` entries on `columns` (see :func:`values_of`)."""
    predicates = []
    for column in columns:
        accepted = values_of(column, where[column])
        if None in accepted:
            others = [v for v in accepted if v is not None]
            predicates.append(table[column].isnull() | table[column].isin(others))
        else:
            predicates.append(table[column].isin(accepted))
    return predicates


def values_of(column: str, value: object) -> list:
    """The accepted values of one `where` entry: a scalar or a list of scalars.

    ``period`` values are period start dates (``date`` or ISO strings).
    """
    values = (
        list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
    )
    if column != "period":
        return values
    try:
        return [
            v if isinstance(v, dt.date) or v is None else dt.date.fromisoformat(str(v))
            for v in values
        ]
    except ValueError:
        raise InputError(
            f"where['period'] = {value!r}: accepted are period start dates such as "
            "'2026-01-01' (or a list of them)"
        ) from None
