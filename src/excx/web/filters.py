"""The dashboard's filters and how they become ``excx.metrics.compute`` arguments.

Filters arrive as GET query parameters: ``grain`` (month or quarter), ``period``
(the start date of one period), ``region``, ``unit`` (the unit and its subtree)
and ``channel``. Employee KPIs follow the privacy rule of ``excx.metrics``: a
filter is always on a column that is also grouped by, so it selects groups the
gate has already seen (a unit subtree is the unit's *rollup* row); the
``channel`` filter applies to customer figures only.

>>> Filters(grain="quarter", period="2026-04-01").query(unit="R1")
'grain=quarter&period=2026-04-01&unit=R1'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace
from urllib.parse import urlencode

import pandas as pd

from excx.errors import InputError
from excx.schema import CHANNELS

__all__ = ["Filters", "GRAINS", "parse_filters", "period_options", "units_in"]

GRAINS = ("month", "quarter")


@dataclass(frozen=True)
class Filters:
    """The filters of one dashboard request (None: not filtered)."""

    grain: str = "month"
    period: str | None = None
    region: str | None = None
    unit: str | None = None
    channel: str | None = None

    def query(self, **changes: str | None) -> str:
        """The filters (with `changes`) as a query string, empty values left out."""
        values = asdict(replace(self, **changes))
        if values["grain"] == "month":
            values.pop("grain")
        return urlencode({k: v for k, v in values.items() if v})

    def span(self) -> tuple[dt.date, dt.date] | None:
        """``(first day, first day after)`` of the period filter; None without one.

        >>> Filters(grain="quarter", period="2026-10-01").span()
        (datetime.date(2026, 10, 1), datetime.date(2027, 1, 1))
        """
        if self.period is None:
            return None
        start = dt.date.fromisoformat(self.period)
        months = 1 if self.grain == "month" else 3
        after = pd.Timestamp(start) + pd.DateOffset(months=months)
        return start, after.date()

    def metric_call(self, audience: str, *, unit: str | None) -> dict:
        """``by``, ``where`` and ``rollup`` for one figure over the selection.

        Parameters
        ----------
        audience
            ``"employee"`` or ``"customer"``.
        unit
            The unit whose subtree is selected (the filter, or a manager's own
            unit), None for all units.

        Notes
        -----
        Every entry of ``where`` is on a column of ``by``; a unit subtree is the
        unit's row with ``rollup``, so that employee figures keep the privacy
        rule. A unit takes precedence over a region.
        """
        by, where, rollup = [], {}, False
        if unit is not None:
            by, where, rollup = ["unit_id"], {"unit_id": [unit]}, True
        elif self.region is not None:
            by, where = ["region"], {"region": [self.region]}
        if self.period is not None:
            by.append("period")
            where["period"] = [self.period]
        if audience == "customer" and self.channel is not None:
            where["channel"] = [self.channel]
        return {"by": tuple(by), "where": where, "rollup": rollup}


def parse_filters(params, *, regions: list[str], units: pd.DataFrame) -> Filters:
    """Check the query parameters against what the store holds.

    Raises
    ------
    InputError
        Naming the parameter, the value received and what is accepted.
    """
    given = {k: (params.get(k) or "").strip() or None for k in Filters.__annotations__}
    filters = Filters(**{k: v for k, v in given.items() if v is not None})
    if filters.grain not in GRAINS:
        _refuse("grain", filters.grain, ", ".join(GRAINS))
    if filters.region is not None and filters.region not in regions:
        _refuse("region", filters.region, ", ".join(regions))
    if filters.unit is not None and filters.unit not in set(units["unit_id"]):
        _refuse("unit", filters.unit, "a unit_id of the units table")
    if filters.channel is not None and filters.channel not in CHANNELS:
        _refuse("channel", filters.channel, ", ".join(CHANNELS))
    if filters.period is not None:
        _check_period(filters.period, filters.grain)
    return filters


def _check_period(period: str, grain: str) -> None:
    try:
        start = dt.date.fromisoformat(period)
    except ValueError:
        _refuse("period", period, "a date YYYY-MM-DD")
    first_months = range(1, 13) if grain == "month" else (1, 4, 7, 10)
    if start.day != 1 or start.month not in first_months:
        _refuse("period", period, f"the first day of a {grain}")


def _refuse(name: str, value: str, accepted: str) -> None:
    raise InputError(f"filter {name}={value!r} is not known; accepted: {accepted}")


def period_options(
    first: dt.date | None, last: dt.date | None, *, grain: str
) -> list[tuple[str, str]]:
    """(start date, label) of every `grain` period from `first` to `last`, newest
    first.

    Examples
    --------
    >>> period_options(dt.date(2026, 2, 9), dt.date(2026, 4, 1), grain="quarter")
    [('2026-04-01', '2026 Q2'), ('2026-01-01', '2026 Q1')]
    """
    if first is None or last is None:
        return []
    frequency = "MS" if grain == "month" else "QS"
    start = pd.Timestamp(first).to_period(frequency[0]).start_time
    starts = pd.date_range(start, pd.Timestamp(last), freq=frequency)[::-1]
    if grain == "month":
        return [(d.date().isoformat(), d.strftime("%b %Y")) for d in starts]
    return [(d.date().isoformat(), f"{d.year} Q{d.quarter}") for d in starts]


def units_in(units: pd.DataFrame, *, root: str | None, region: str | None) -> list:
    """Unit ids of the subtree of `root` (all units when None), in tree order
    (each unit followed by its children), kept to `region` when given."""
    children: dict[object, list[str]] = {}
    for unit_id, parent in zip(units["unit_id"], units["parent_id"], strict=True):
        children.setdefault(None if pd.isna(parent) else parent, []).append(unit_id)
    tops = [root] if root is not None else sorted(children.get(None, []))
    ordered: list[str] = []
    stack = list(reversed(tops))
    while stack:
        unit_id = stack.pop()
        ordered.append(unit_id)
        stack.extend(sorted(children.get(unit_id, []), reverse=True))
    if region is not None:
        in_region = set(units.loc[units["region"] == region, "unit_id"])
        ordered = [u for u in ordered if u in in_region]
    return ordered
