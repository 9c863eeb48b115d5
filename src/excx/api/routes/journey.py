"""``/api/v1/journey``: the Engagement Journey programme, its KPIs and effects.

A thin shell over :mod:`excx.journey`: every check (dates, phases, units,
overlapping initiatives, answers 1–5) is the library's, and its
:class:`~excx.errors.InputError` becomes a 422 whose ``detail`` is the library's
message; the library writes all rows of an operation or none.

Access (admin writes; the others read):

=====================================  =====  =======  ====================  ======
route                                  admin  analyst  manager               viewer
=====================================  =====  =======  ====================  ======
GET  /journey/initiatives, activities  yes    yes      touching own subtree  no
GET  /journey/recognitions, actions    yes    yes      own subtree's rows    no
POST /journey/initiatives, activities  yes    no       no                    no
POST /journey/recognitions, actions    yes    no       no                    no
POST /journey/maturity (score)         yes    yes      no                    no
GET  /journey/maturity/{id}            yes    yes      no                    no
GET  /journey/initiatives/{id}/kpis    yes    yes      all units in subtree  no
GET  /journey/activities/{id}/effect   yes    yes      all units in subtree  no
=====================================  =====  =======  ====================  ======

A manager lists the initiatives and activities that involve at least one unit of
their subtree; KPIs and effects list figures per unit, so a manager gets them
only when every unit of the initiative (activity) is in their subtree (403
naming the units outside otherwise). Recognitions and feedback actions are
programme records about units (typed in by an admin, not survey answers), so
they are listed per unit without the privacy gate; a manager gets the rows of
their subtree (403 for a ``unit_id`` outside it). Storing a maturity assessment
(``save: true``) is for admins; scoring answers without storing is also open to
analysts.

Statistical caveats (:class:`~excx.errors.ExcxWarning`, e.g. differing
pre-trends) come back in a ``warnings`` list. They are caught with
:func:`warnings.catch_warnings`, which is process-wide: under concurrent
requests a warning may be listed on the wrong answer or missed.
"""

from __future__ import annotations

import json
import warnings
from typing import Annotated, Literal

import pandas as pd
import pyarrow as pa
from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from excx.api.deps import ScopeDep, StoreDep, UserDep, require, subtree
from excx.errors import ExcxWarning, InputError
from excx.journey import maturity, programme

__all__ = ["router", "records"]

router = APIRouter(prefix="/journey", tags=["journey"])

_Id = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\w.\-]+$")]
_Text = Annotated[str, Field(max_length=2000)]
_READERS = require("admin", "analyst", "manager")


def records(frame: pd.DataFrame) -> list[dict]:
    """A frame as JSON records: dates in ISO form, NaN as null."""
    return json.loads(
        frame.to_json(orient="records", date_format="iso", double_precision=15)
    )


def caught_warnings(caught) -> list[str]:
    """excx warnings raised during a call, as ``"Name: message"``."""
    return [
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if issubclass(w.category, ExcxWarning)
    ]


class NewInitiative(BaseModel):
    name: _Text
    starts_on: str
    ends_on: str
    owner: _Text | None = None
    initiative_id: _Id | None = None


class NewActivity(BaseModel):
    initiative_id: _Id
    phase: str
    name: _Text
    units: list[str] = Field(default_factory=list, max_length=10_000)
    starts_on: str
    ends_on: str
    owner: _Text | None = None
    status: str = "planned"
    evidence: _Text | None = None
    participants: dict[str, Annotated[int, Field(ge=0)]] | None = None
    eligible: dict[str, Annotated[int, Field(ge=0)]] | None = None
    activity_id: _Id | None = None


class NewRecognition(BaseModel):
    unit_id: str
    period: str
    kind: _Text
    activity_id: str | None = None
    note: _Text | None = None


class NewAction(BaseModel):
    unit_id: str
    description: _Text
    opened_on: str
    closed_on: str | None = None


class MaturityAnswers(BaseModel):
    answers: dict[str, int] = Field(max_length=len(maturity.ITEMS))
    save: bool = False
    assessment_id: _Id | None = None


def _units_of(activities: pd.DataFrame) -> pd.Series:
    """Each activity's unit ids as a set."""
    return (
        activities["units"]
        .fillna("")
        .map(lambda text: set(filter(None, text.split(","))))
    )


def _touching(activities: pd.DataFrame, scope) -> pd.DataFrame:
    """Activities that involve a unit of the scope (all of them without a scope)."""
    if scope.units is None:
        return activities
    touching = _units_of(activities).map(lambda units: bool(units & scope.units))
    return activities.loc[touching.astype(bool)]


@router.get(
    "/initiatives",
    summary="Initiatives, with activities and units counted",
    dependencies=[_READERS],
)
def list_initiatives(store: StoreDep, scope: ScopeDep) -> list[dict]:
    """A manager sees the initiatives with an activity in their subtree."""
    found = programme.initiatives(store)
    if scope.units is not None:
        touching = _touching(programme.activities(store), scope)
        found = found[found["initiative_id"].isin(touching["initiative_id"])]
    return records(found)


@router.post(
    "/initiatives",
    status_code=201,
    summary="Add an initiative",
    dependencies=[require("admin")],
)
def create_initiative(body: NewInitiative, store: StoreDep) -> dict:
    """422 with the library's message on reversed or malformed dates or a
    taken id; nothing is stored then."""
    made = programme.add_initiative(store, **body.model_dump())
    return {"initiative_id": made}


@router.get(
    "/activities",
    summary="Activities phase by phase, with their units",
    dependencies=[_READERS],
)
def list_activities(
    store: StoreDep, scope: ScopeDep, initiative_id: str | None = None
) -> list[dict]:
    """``units`` comma-separated; a manager sees those touching their subtree."""
    found = programme.activities(store, initiative_id=initiative_id)
    return records(_touching(found, scope))


@router.post(
    "/activities",
    status_code=201,
    summary="Add an activity of one phase",
    dependencies=[require("admin")],
)
def create_activity(body: NewActivity, store: StoreDep) -> dict:
    """422 when the initiative, phase, status or a unit is unknown, there are no
    units, the dates are missing, reversed or outside the initiative, or the
    units are in another overlapping initiative; nothing is stored then."""
    fields = body.model_dump()
    made = programme.add_activity(store, fields.pop("initiative_id"), **fields)
    return {"activity_id": made}


@router.post(
    "/recognitions",
    status_code=201,
    summary="Record a recognition (Reward)",
    dependencies=[require("admin")],
)
def create_recognition(body: NewRecognition, store: StoreDep) -> dict:
    return {"recognition_id": programme.recognise(store, **body.model_dump())}


@router.post(
    "/actions",
    status_code=201,
    summary="Record an action on feedback (Listen)",
    dependencies=[require("admin")],
)
def create_action(body: NewAction, store: StoreDep) -> dict:
    return {"action_id": programme.add_action(store, **body.model_dump())}


def _listed_units(store, scope, unit_id: str | None) -> list[str] | None:
    """The units whose records are listed: `unit_id` and the units below it,
    within the scope (None: every unit)."""
    if unit_id is None:
        return scope.restrict(None)
    if not len(store.existing_keys("units", pa.array([unit_id]))):
        raise InputError(f"unit_id={unit_id!r} is not a unit_id of the units table")
    scope.restrict([unit_id])
    return subtree(store, unit_id)


@router.get(
    "/recognitions",
    summary="Recognitions (Reward), latest month first",
    dependencies=[_READERS],
)
def list_recognitions(
    store: StoreDep,
    scope: ScopeDep,
    unit_id: Annotated[str | None, Query(max_length=100)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
    activity_id: Annotated[str | None, Query(max_length=100)] = None,
) -> list[dict]:
    """Rows of :func:`excx.journey.records.recognitions`. ``unit_id``: that unit
    and the units below it; ``period``: any day of a month (YYYY-MM-DD)."""
    from excx.journey.records import recognitions

    units = _listed_units(store, scope, unit_id)
    found = recognitions(store, units=units, period=period, activity_id=activity_id)
    return records(found)


@router.get(
    "/actions",
    summary="Actions on feedback (Listen), latest opened first",
    dependencies=[_READERS],
)
def list_actions(
    store: StoreDep,
    scope: ScopeDep,
    unit_id: Annotated[str | None, Query(max_length=100)] = None,
    status: Literal["open", "closed"] | None = None,
) -> list[dict]:
    """Rows of :func:`excx.journey.records.feedback_actions`. ``unit_id``: that
    unit and the units below it; ``status``: open (not closed) or closed."""
    from excx.journey.records import feedback_actions

    units = _listed_units(store, scope, unit_id)
    return records(feedback_actions(store, units=units, status=status))


@router.post(
    "/maturity",
    summary="Score the maturity questionnaire; store it on request",
    dependencies=[require("admin", "analyst")],
)
def score_maturity(body: MaturityAnswers, store: StoreDep, user: UserDep) -> dict:
    """``profile``: one row per prerequisite (0–100, weakest first, with what to
    do first); with ``save`` (admins only) the answers are stored first."""
    if not body.answers:
        raise InputError(
            f"no answers; give item_id: 1..5 for items {', '.join(maturity.ITEMS)}"
        )
    profile = maturity.score(body.answers)
    assessment_id = None
    if body.save:
        if user.role != "admin":
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {user.role!r} may score but not store an assessment; "
                "allowed to store: admin",
            )
        assessment_id = maturity.record(
            store, body.answers, assessment_id=body.assessment_id
        )
    return {"assessment_id": assessment_id, "profile": records(profile)}


@router.get(
    "/maturity/{assessment_id}",
    summary="The profile of a stored assessment",
    dependencies=[require("admin", "analyst")],
)
def stored_maturity(assessment_id: str, store: StoreDep) -> dict:
    profile = maturity.score(maturity.answers_of(store, assessment_id))
    return {"assessment_id": assessment_id, "profile": records(profile)}


@router.get(
    "/initiatives/{initiative_id}/kpis",
    summary="Each phase's KPIs from the data (employee figures gated)",
    dependencies=[_READERS],
)
def initiative_kpis(
    initiative_id: str,
    store: StoreDep,
    scope: ScopeDep,
    phase: Annotated[list[str] | None, Query()] = None,
    measure: bool = False,
) -> dict:
    """Rows of :func:`excx.journey.phases.phase_kpis`; ``phase`` repeatable
    (all but measure by default); ``measure=true`` also runs the linkage models
    (slow)."""
    from excx.journey.phases import phase_kpis

    acts = programme.activities(store, initiative_id=initiative_id)
    if scope.units is not None and not acts.empty:
        scope.restrict(sorted(set().union(*_units_of(acts))))
    frame = phase_kpis(
        store, initiative_id, phases=phase or None, include_measure=measure
    )
    return {"initiative_id": initiative_id, "rows": records(frame)}


@router.get(
    "/activities/{activity_id}/effect",
    summary="Did the activity work? Difference-in-differences and event study",
    dependencies=[_READERS],
)
def activity_effect(
    activity_id: str,
    store: StoreDep,
    scope: ScopeDep,
    outcome: Literal["enps", "nps"] = "enps",
    window: Annotated[int | None, Query(ge=1, le=60)] = None,
    period: Literal["month", "quarter"] = "month",
    level: Annotated[float, Query(gt=0, lt=1)] = 0.95,
) -> dict:
    """``effect`` (one row), ``event_study`` (one row per relative period),
    ``pretrend`` (joint test of the leads) and ``warnings`` (e.g. pre-trends)."""
    from excx.journey.did import did

    chosen = programme.activity(store, activity_id)
    scope.restrict(chosen["units"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExcxWarning)
        result = did(
            store, chosen, outcome=outcome, window=window, period=period, level=level
        )
    return {
        "activity_id": activity_id,
        "outcome": outcome,
        "effect": records(result.effect),
        "event_study": records(result.event_study),
        "pretrend": records(result.pretrend)[0],
        "warnings": caught_warnings(caught),
    }
