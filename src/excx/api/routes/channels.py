"""``/api/v1/channels``: human touch across channels, journeys and hand-offs.

A thin shell over :mod:`excx.channels`. The figures are company-wide customer
figures (a dashboard's), so the roles are those of ``GET /linkage``: admin,
analyst and viewer; a manager, whose view is their subtree, is refused (bot and
self-service answers have no unit to scope them by). The hand-off model uses
each unit's eNPS only through :func:`excx.metrics.compute`, so units the
privacy gate hides are left out (and a warning says how many).
"""

from __future__ import annotations

import warnings
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from excx.api.deps import StoreDep, require
from excx.api.routes.journey import caught_warnings, records
from excx.errors import ExcxWarning, InputError

__all__ = ["router"]

router = APIRouter(
    prefix="/channels",
    tags=["channels"],
    dependencies=[require("admin", "analyst", "viewer")],
)

_GROUPS = ("channel", "served_by", "unit_id")


@router.get(
    "/human-touch", summary="NPS, CSAT and CES by channel × served_by, intervals"
)
def human_touch(
    store: StoreDep, level: Annotated[float, Query(gt=0, lt=1)] = 0.95
) -> dict:
    """Rows of :func:`excx.channels.human_touch.by_channel` (kpi, channel,
    served_by, n, value, ci_low, ci_high, suppressed)."""
    from excx.channels.human_touch import by_channel

    return {"level": level, "rows": records(by_channel(store, level=level))}


@router.get(
    "/prefers-person", summary="Share of customers who would rather see a person"
)
def prefers_person(
    store: StoreDep,
    item: Annotated[str, Query(max_length=100)] = "prefers_person",
    threshold: Annotated[int, Query(ge=1, le=5)] = 4,
    by: str = "",
    level: Annotated[float, Query(gt=0, lt=1)] = 0.95,
) -> dict:
    """``by``: comma-separated, any of channel, served_by, unit_id. ``rows`` is
    empty when nobody answered `item`."""
    from excx.channels.human_touch import prefers_person as share

    groups = [c.strip() for c in by.split(",") if c.strip()]
    unknown = [c for c in groups if c not in _GROUPS]
    if unknown:
        raise InputError(f"by={unknown}; accepted: {', '.join(_GROUPS)}")
    frame = share(store, item=item, threshold=threshold, by=groups, level=level)
    return {"item": item, "threshold": threshold, "rows": records(frame)}


@router.get("/paths", summary="The most common journey paths and their NPS")
def paths(
    store: StoreDep,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
    level: Annotated[float, Query(gt=0, lt=1)] = 0.95,
) -> dict:
    """Rows of :func:`excx.channels.journeys.common_paths`, most journeys first."""
    from excx.channels.journeys import common_paths

    return {"rows": records(common_paths(store, top=top, level=level))}


@router.get(
    "/handoff", summary="What a bot-to-human hand-off costs in NPS, by engagement"
)
def handoff(
    store: StoreDep,
    period: Literal["month", "quarter", "year"] = "month",
    level: Annotated[float, Query(gt=0, lt=1)] = 0.95,
) -> dict:
    """Rows ``handoff`` and ``handoff_x_enps`` of
    :func:`excx.channels.human_touch.handoff_effect`, and ``warnings``; 422
    when the store holds no answered journeys of both kinds."""
    from excx.channels.human_touch import handoff_effect

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExcxWarning)
        frame = handoff_effect(store, period=period, level=level)
    return {"rows": records(frame), "warnings": caught_warnings(caught)}
