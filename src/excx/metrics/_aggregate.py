"""The engine side of a KPI: validated arguments, then per-group statistics.

Used by :mod:`excx.metrics.compute` and :mod:`excx.metrics.compare`; the per-group
statistics are the only thing that comes back from the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from excx.errors import InputError
from excx.metrics._rows import (
    DIMENSIONS,
    PERIODS,
    filter_predicates,
    period_start,
    scored_rows,
    values_of,
)
from excx.metrics.kpis import Kpi, statistics
from excx.store import Store


def group_statistics(
    store: Store,
    definition: Kpi,
    *,
    by: tuple[str, ...],
    period: str,
    rollup: bool,
    where: Mapping[str, object],
) -> pd.DataFrame:
    """The per-group sufficient statistics, aggregated in the engine."""
    rows = scored_rows(
        store,
        definition,
        needed=set(by) | set(where),
        period=period,
        rollup=rollup,
        period_as_key="period" in by,
    )
    restricting = [c for c in where if c not in by]
    if restricting:
        rows = rows.filter(filter_predicates(rows, where, restricting))

    reductions = statistics(definition, rows.score)
    if by:
        groups = rows.group_by(list(by)).aggregate(**reductions)
    else:
        groups = rows.aggregate(**reductions)
    if "period" in by:
        groups = groups.mutate(period=period_start(groups.period, period))
    selecting = [c for c in where if c in by]
    if definition.audience == "customer" and selecting:
        groups = groups.filter(filter_predicates(groups, where, selecting))

    table = store.to_pyarrow(groups)
    if "period" in by:
        index = table.schema.get_field_index("period")
        table = table.set_column(
            index, "period", pc.cast(table.column("period"), pa.string())
        )
    return table.to_pandas(self_destruct=True, split_blocks=True)


def select_groups(
    frame: pd.DataFrame, where: Mapping[str, object], columns: list[str]
) -> pd.DataFrame:
    """Keep the rows of the (small, gated) frame that match `where` on `columns`."""
    keep = np.ones(len(frame), dtype=bool)
    for column in columns:
        accepted = values_of(column, where[column])
        if column == "period":
            accepted = [None if v is None else v.isoformat() for v in accepted]
        match = frame[column].isin([v for v in accepted if v is not None])
        if None in accepted:
            match |= frame[column].isna()
        keep &= match.to_numpy(dtype=bool)
    return frame[keep]


def check_by(definition: Kpi, by: Sequence[str], *, rollup: bool) -> tuple[str, ...]:
    by = (by,) if isinstance(by, str) else tuple(by)
    unknown = [d for d in by if d not in definition.dimensions]
    if unknown:
        raise InputError(
            f"by={unknown} is not accepted for {definition.name}; accepted by values "
            f"for {definition.name}: {', '.join(definition.dimensions)}"
        )
    if len(set(by)) != len(by):
        raise InputError(f"by={list(by)} names a column twice")
    if rollup and "unit_id" not in by:
        raise InputError(
            "rollup=True reports units over their subtree: add unit_id to by"
        )
    return tuple(d for d in DIMENSIONS if d in by)


def check_method(definition: Kpi, ci: str | None) -> str:
    method = definition.default_method if ci is None else ci
    if method not in definition.methods:
        raise InputError(
            f"ci={ci!r} is not available for {definition.name}; accepted: "
            f"{', '.join(definition.methods)}"
        )
    return method


def check_options(period: str, level: float) -> None:
    if period not in PERIODS:
        raise InputError(f"period={period!r}; accepted: {', '.join(PERIODS)}")
    if not 0 < level < 1:
        raise InputError(
            f"level={level!r}; accepted: a confidence level between 0 and 1"
        )


def check_where(
    definition: Kpi, where: Mapping[str, object] | None
) -> dict[str, object]:
    where = dict(where or {})
    unknown = [c for c in where if c not in definition.dimensions]
    if unknown:
        raise InputError(
            f"where on {unknown} is not accepted for {definition.name}; accepted "
            f"columns: {', '.join(definition.dimensions)}"
        )
    return where
