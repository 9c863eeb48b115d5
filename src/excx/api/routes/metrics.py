"""``GET /api/v1/metrics/{kpi}``: the rows of ``excx.metrics.compute``, as JSON.

The route translates query parameters into the same library call the CLI makes.
Two rules sit in front of it:

- **Scope.** A manager's request is limited to their subtree by a ``unit_id``
  filter (:class:`excx.api.deps.Scope`).
- **No differencing for employee KPIs.** ``compute`` applies a filter on a column
  that is also in ``by`` *after* the privacy gate (it only selects reported
  groups), but a filter on any other column changes the population *before* the
  gate. Two such requests (all units vs all units but one) subtract to a group
  the gate never saw. For eNPS and engagement the API therefore accepts filters
  only on columns that are in ``by`` and refuses others with 403. The same holds
  for a manager's implicit subtree filter: employee KPIs need ``unit_id`` in
  ``by`` (``rollup=true`` gives each unit over its subtree).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

import excx.metrics
from excx.api.deps import ScopeDep, StoreDep, require
from excx.errors import InputError, PrivacyError
from excx.metrics import KPIS
from excx.web.cache import cache_header, cached, store_state

router = APIRouter(tags=["metrics"])

_MAX_PERIODS = 600
# Query parameter -> compute's where column.
_FILTERS = {
    "unit": "unit_id",
    "region": "region",
    "channel": "channel",
    "served_by": "served_by",
    "role": "role",
}


def _listed(text: str | None) -> list[str] | None:
    if text is None:
        return None
    values = [v.strip() for v in text.split(",") if v.strip()]
    return values or None


def period_starts(
    start: dt.date | None, end: dt.date | None, *, grain: str
) -> list[str] | None:
    """ISO start dates of the `grain` periods that overlap ``[start, end]``.

    Examples
    --------
    >>> period_starts(dt.date(2026, 2, 15), dt.date(2026, 4, 1), grain="month")
    ['2026-02-01', '2026-03-01', '2026-04-01']
    """
    if start is None and end is None:
        return None
    if start is None:
        raise InputError("to= needs from=: accepted: from=YYYY-MM-DD[&to=YYYY-MM-DD]")
    end = end or dt.date.today()
    frequency = {"month": "MS", "quarter": "QS", "year": "YS"}.get(grain)
    if frequency is None or end < start:
        raise InputError(
            f"from={start}, to={end}, period={grain}: accepted are from ≤ to and "
            "period month, quarter or year"
        )
    first = pd.Timestamp(start).to_period(frequency[0]).start_time
    starts = pd.date_range(first, pd.Timestamp(end), freq=frequency)
    if len(starts) > _MAX_PERIODS:
        raise InputError(
            f"from..to spans {len(starts)} periods; at most {_MAX_PERIODS}"
        )
    return [d.date().isoformat() for d in starts]


def check_privacy(kpi: str, by: tuple[str, ...], where: dict) -> None:
    """Refuse filters that would change an employee KPI's population before the gate.

    Raises
    ------
    PrivacyError
        For an employee KPI with a filter on a column not in `by`.
    """
    if kpi not in KPIS or KPIS[kpi].audience != "employee":
        return
    outside = [c for c in where if c not in by]
    if outside:
        raise PrivacyError(
            f"{kpi} is an employee KPI: filters on {outside} must also be in by "
            f"(e.g. by={','.join(list(by) + outside)}), because a filter on a "
            "column outside by changes who is counted before the privacy gate, "
            "and two such requests could be subtracted to reveal a small group. "
            "A manager's subtree is such a filter: use by=unit_id (rollup=true "
            "for each unit over its subtree)"
        )


class MetricsAnswer(BaseModel):
    """One KPI per group: the frame of ``excx.metrics.compute`` as records."""

    kpi: str
    by: list[str]
    rows: list[dict]
    cronbach_alpha: float | None = None


@router.get(
    "/metrics/{kpi}",
    response_model=MetricsAnswer,
    summary="A KPI per group with its interval (employee KPIs privacy-gated)",
    dependencies=[require("admin", "analyst", "manager", "viewer")],
)
def metrics(
    request: Request,
    kpi: str,
    store: StoreDep,
    scope: ScopeDep,
    by: str = "",
    period: str = "month",
    ci: str | None = None,
    level: Annotated[float, Query(gt=0, lt=1)] = 0.95,
    rollup: bool = False,
    unit: str | None = None,
    region: str | None = None,
    channel: str | None = None,
    served_by: str | None = None,
    role: str | None = None,
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
) -> Response:
    """Query parameters as in ``excx metrics``; lists are comma-separated.

    ``from``/``to`` select the periods (``period`` grain) that overlap the
    dates. The response holds ``rows`` (one per group, sorted by the ``by``
    columns), and ``cronbach_alpha`` for engagement. Answers are cached per
    store generation, query and caller's scope (header ``X-Excx-Cache``).
    """
    given = {"unit": unit, "region": region, "channel": channel}
    given |= {"served_by": served_by, "role": role}
    where = {
        _FILTERS[name]: values
        for name, value in given.items()
        if (values := _listed(value)) is not None
    }
    allowed = scope.restrict(where.get("unit_id"))
    if allowed is not None:
        where["unit_id"] = allowed
    periods = period_starts(start, end, grain=period)
    if periods is not None:
        where["period"] = periods
    groups = tuple(_listed(by) or ())
    check_privacy(kpi, groups, where)

    options = {"by": groups, "period": period, "rollup": rollup, "ci": ci}
    options |= {"level": level, "where": where}
    key = (*store_state(store), "api.metrics", kpi, scope.units)
    key += (*_normalised(options),)
    body = cached(request, key, lambda: _answer(store, kpi, options))
    return Response(body, media_type="application/json", headers=cache_header(request))


def _normalised(options: dict) -> tuple:
    """`options` as a hashable key: filter values sorted, duplicates dropped."""
    where = options["where"]
    filters = tuple((c, tuple(sorted(set(where[c])))) for c in sorted(where))
    return (*((k, v) for k, v in sorted(options.items()) if k != "where"), filters)


def _answer(store, kpi: str, options: dict) -> bytes:
    """The :class:`MetricsAnswer` of ``excx.metrics.compute`` as JSON bytes."""
    frame = excx.metrics.compute(store, kpi, **options)
    keys = list(frame.columns[: -len(excx.metrics.OUTPUT_COLUMNS)])
    if keys:
        frame = frame.sort_values(keys, na_position="last", ignore_index=True)
    answer = MetricsAnswer(
        kpi=kpi,
        by=keys,
        rows=json.loads(frame.to_json(orient="records", double_precision=15)),
        cronbach_alpha=frame.attrs.get("cronbach_alpha"),
    )
    return answer.model_dump_json().encode()
