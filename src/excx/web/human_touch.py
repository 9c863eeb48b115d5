"""The human-touch page's figures: who would rather see a person, what a
bot-to-human hand-off costs, and the common journey paths with their NPS.

Every figure is :mod:`excx.channels`' (customer answers; the hand-off model sees
unit eNPS only through the privacy gate of :func:`excx.metrics.compute`). The
selection is the dashboard's: the answers of the selected units (a manager's
subtree by default; answers without a unit, such as bot ones, then drop out)
submitted in the selected period. The channel filter does not apply: a journey
crosses channels.
"""

from __future__ import annotations

import datetime as dt

from excx.channels.human_touch import prefers_person
from excx.channels.journeys import common_paths
from excx.report.channels import handoff_with_notes
from excx.store import Store
from excx.web.figures import records

__all__ = ["ITEM", "TOP_PATHS", "human_touch_figures"]

ITEM = "prefers_person"  # the customer item of the API's default
TOP_PATHS = 10


def human_touch_figures(
    store: Store,
    between: tuple[dt.date, dt.date] | None,
    *,
    units: tuple[str, ...] | None,
) -> dict:
    """Template values over the selection.

    Returns
    -------
    dict
        ``logs`` (interaction rows in the store), ``prefers`` (the overall
        share row, or None when nobody answered :data:`ITEM`),
        ``prefers_rows`` (per channel × served_by), ``paths`` (the
        :data:`TOP_PATHS` most common paths), ``handoff`` rows (empty when the
        model cannot be fitted), ``handoff_reason`` and ``handoff_notes``.
    """
    selection = {"units": units, "between": between}
    overall = prefers_person(store, item=ITEM, **selection)
    per_channel = prefers_person(
        store, item=ITEM, by=["channel", "served_by"], **selection
    )
    values = {
        "item": ITEM,
        "logs": store.count("interactions"),
        "prefers": records(overall)[0] if len(overall) else None,
        "prefers_rows": records(per_channel),
        "paths": [],
        "handoff": [],
        "handoff_reason": None,
        "handoff_notes": [],
    }
    if not values["logs"]:
        return values
    values["paths"] = records(common_paths(store, top=TOP_PATHS, **selection))
    handoff, reason, notes = handoff_with_notes(store, **selection)
    values["handoff"] = records(handoff) if handoff is not None else []
    return values | {"handoff_reason": reason, "handoff_notes": notes}
