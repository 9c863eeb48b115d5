"""The journey page's figures: one initiative's six phases, their KPIs and effects.

Phase status comes from the activities (:func:`excx.report.journey.phase_status`),
KPIs from :func:`excx.journey.phases.phase_kpis` (employee figures gated there:
suppressed rows keep a null value and are shown as suppressed), effects from
:func:`excx.report.journey.activity_effects`, i.e. :func:`excx.journey.did.did`
as ``GET /api/v1/journey/activities/{id}/effect`` runs it. The Measure phase (the
linkage models, slow) is not run here; the page links to the linkage page.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from excx.api.deps import Scope
from excx.errors import InputError
from excx.journey import programme
from excx.journey.phases import phase_kpis
from excx.report.journey import activity_effects, event_study_chart, phase_status
from excx.schema import PHASES
from excx.store import Store
from excx.web.figures import records

__all__ = ["initiative_units", "visible_initiatives", "context", "effect_figures"]

LEVEL = 0.95  # the effect route's default, so that both show the same intervals


def initiative_units(activities: pd.DataFrame) -> dict[str, set[str]]:
    """Each initiative's unit ids (over its activities), from
    :func:`excx.journey.programme.activities`."""
    found: dict[str, set[str]] = {}
    for initiative_id, units in zip(
        activities["initiative_id"], activities["units"].fillna(""), strict=True
    ):
        found.setdefault(initiative_id, set()).update(filter(None, units.split(",")))
    return found


def visible_initiatives(store: Store, scope: Scope) -> list[dict]:
    """Initiatives the user may open, latest start first: the
    ``initiatives`` columns as strings and ``unit_ids`` (a sorted list).

    A manager gets only those whose every unit is in their subtree (an
    initiative without units is nobody's subtree, so it is left out too).
    """
    found = programme.initiatives(store)
    units = initiative_units(programme.activities(store))
    shown = []
    for row in found.iloc[::-1].itertuples(index=False):
        mine = units.get(row.initiative_id, set())
        if scope.units is not None and not (mine and mine <= scope.units):
            continue
        shown.append(
            {
                "initiative_id": row.initiative_id,
                "name": row.name,
                "owner": None if pd.isna(row.owner) else row.owner,
                "starts_on": str(row.starts_on)[:10],
                "ends_on": str(row.ends_on)[:10],
                "unit_ids": sorted(mine),
            }
        )
    return shown


def _chosen(store: Store, scope: Scope, requested: str | None) -> tuple[dict, list]:
    """The requested initiative (default: the latest visible one) and the list.

    Raises
    ------
    InputError
        An unknown initiative id (naming the ids accepted).
    HTTPException
        403 when a manager asks for an initiative with units outside the subtree.
    """
    shown = visible_initiatives(store, scope)
    if requested is None:
        return (shown[0] if shown else None), shown
    for initiative in shown:
        if initiative["initiative_id"] == requested:
            return initiative, shown
    every = visible_initiatives(store, Scope(scope.user, None))
    known = {i["initiative_id"]: i for i in every}
    if requested not in known:
        accepted = ", ".join(i["initiative_id"] for i in shown) or "none"
        raise InputError(f"initiative={requested!r} is not known; accepted: {accepted}")
    scope.restrict(known[requested]["unit_ids"])  # 403 for a manager
    raise InputError(f"initiative {requested!r} has no activities with units")


def context(store: Store, scope: Scope, requested: str | None, cached: Callable):
    """Template values for the chosen initiative: ``initiatives`` (the choice),
    ``initiative``, ``phases`` (cards), ``kpis`` (per phase), ``effects`` and
    ``effect_notes`` rows, ``specs`` (event studies) and ``level``.

    `cached` is ``_Selection.cached`` of the page: figures are computed once per
    store state.
    """
    initiative, shown = _chosen(store, scope, requested)
    values = {"initiatives": shown, "initiative": initiative, "level": LEVEL}
    if initiative is None:
        return values | {"phases": [], "kpis": [], "effects": [], "effect_notes": []}
    initiative_id = initiative["initiative_id"]
    acts = programme.activities(store, initiative_id=initiative_id)
    values["phases"] = _phase_cards(acts)
    values["kpis"] = []
    if initiative["unit_ids"]:
        values["kpis"] = _kpi_sections(cached(phase_kpis, store, initiative_id))
    return values | cached(effect_figures, store, initiative_id)


def effect_figures(store: Store, initiative_id: str) -> dict:
    """``effects`` (one DiD row per activity and outcome), ``effect_notes`` (why
    an activity has no result, and pre-trend warnings) and ``specs`` (event
    studies) of :func:`excx.report.journey.activity_effects`."""
    effects, notes = activity_effects(store, initiative_id, level=LEVEL)
    return {
        "effects": records(effects[effects["term"] == "did"]),
        "effect_notes": records(notes),
        "specs": _event_specs(effects),
    }


def _phase_cards(acts: pd.DataFrame) -> list[dict]:
    """Per phase, in order: status, counts by status, first start, last end and
    the activities (name, status, dates, number of units)."""
    cards = []
    for row in phase_status(acts).to_dict(orient="records"):
        mine = acts[acts["phase"] == row["phase"]]
        row["starts_on"] = str(mine["starts_on"].min())[:10] if len(mine) else None
        row["ends_on"] = str(mine["ends_on"].max())[:10] if len(mine) else None
        row["items"] = [
            {
                "activity_id": a.activity_id,
                "name": a.name,
                "status": a.status,
                "starts_on": str(a.starts_on)[:10],
                "ends_on": str(a.ends_on)[:10],
                "units": len([u for u in (a.units or "").split(",") if u]),
            }
            for a in mine.itertuples(index=False)
        ]
        cards.append(row)
    return cards


def _kpi_sections(kpis: pd.DataFrame) -> list[dict]:
    """One section per phase with KPIs: its rows, and each KPI's note once."""
    kpis = kpis.assign(period=kpis["period"].map(_day))
    sections = []
    for phase in PHASES:
        rows = kpis[kpis["phase"] == phase]
        if rows.empty:
            continue
        notes = rows[["kpi", "note"]].dropna().drop_duplicates()
        sections.append(
            {"phase": phase, "rows": records(rows), "notes": records(notes)}
        )
    return sections


def _event_specs(effects: pd.DataFrame) -> dict:
    """A Vega-Lite event-study chart per activity and outcome."""
    specs = {}
    events = effects[effects["term"] == "event"]
    for i, ((activity_id, outcome), rows) in enumerate(
        events.groupby(["activity_id", "outcome"], sort=True)
    ):
        title = f"{rows['name'].iloc[0]} ({activity_id}): {outcome}"
        chart = event_study_chart(rows, title=title, level=LEVEL)
        specs[f"event-{i}"] = chart.to_dict()
    return specs


def _day(value) -> str | None:
    return None if value is None or pd.isna(value) else str(value)[:10]
