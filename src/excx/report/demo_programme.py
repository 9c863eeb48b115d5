"""The demo's Engagement Journey: a programme run on the synthetic bank.

:func:`plan` decides, before the files are written, what the programme and the
omnichannel journeys did to the answers: a front-office pilot with a set effect
on eNPS (and, through the built-in link, on NPS), and a bot-to-human hand-off
with a set NPS cost. :func:`record` then stores the programme the way a user
would, through :mod:`excx.journey.programme`: an initiative with an activity in
each of the six phases, recognitions, actions on feedback and a maturity
assessment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from excx.channels.synth import HandoffTruth, interactions
from excx.journey import maturity, programme
from excx.journey.synth import INITIATIVE_ID, ProgrammeTruth
from excx.journey.synth import programme as programme_answers
from excx.store import Store

__all__ = [
    "Plan",
    "plan",
    "record",
    "write_interactions",
    "ENPS_EFFECT",
    "HANDOFF_COST",
]

# The pilot's effect on eNPS and the hand-off's cost in NPS, in points.
ENPS_EFFECT = 10.0
HANDOFF_COST = 15.0
_START_MONTH = 12


@dataclass(frozen=True)
class Plan:
    """What the demo's programme and journeys set.

    Attributes
    ----------
    pilot, handoff
        The activity with a known effect and the hand-off with a known cost.
    scores
        Answers to write instead of the company's (see
        :func:`excx.synth.write_files`).
    interactions
        The customers' interaction log.
    """

    pilot: ProgrammeTruth
    handoff: HandoffTruth
    scores: dict[str, pa.Table]
    interactions: pa.Table


def plan(company, *, seed: int = 0) -> Plan:
    """The pilot's and the hand-off's effects on `company`'s answers.

    The pilot adds :data:`ENPS_EFFECT` to its units' expected eNPS from month
    12 on, and the NPS that the company's own link implies
    (``truth.enps_to_nps`` per eNPS point), so that the linkage truth still holds.
    """
    nps_effect = ENPS_EFFECT * company.truth.enps_to_nps
    tables, pilot = programme_answers(
        company,
        enps_effect=ENPS_EFFECT,
        nps_effect=nps_effect,
        start_month=_START_MONTH,
        seed=seed,
    )
    journeys, handoff = interactions(
        company,
        handoff_cost=HANDOFF_COST,
        seed=seed,
        responses=tables["customer_responses"],
    )
    employees = tables["employee_responses"]
    scores = {
        "employee_responses": pa.Table.from_pandas(
            _programme_items(employees, company, pilot, seed), preserve_index=False
        ),
        "customer_responses": journeys["customer_responses"].select(
            ["response_id", "nps"]
        ),
    }
    return Plan(pilot, handoff, scores, journeys["interactions"])


def _programme_items(employees: pa.Table, company, pilot, seed: int) -> pd.DataFrame:
    """eNPS with the pilot's effect, and the programme's own pulse items.

    ``item_readiness_tools`` and ``item_readiness_change`` (Know) are asked in
    the first two months; ``item_journey_vision`` (Tell) from the roadshow on,
    agreement rising from 30% to 70% over six months. None of them moves the
    engagement index (:mod:`excx.metrics.items`).
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(17,)))
    frame = employees.select(["response_id", "enps", "submitted_at"]).to_pandas()
    first = np.datetime64(company.periods[0], "M")
    month = frame.pop("submitted_at").to_numpy().astype("datetime64[M]") - first
    month = month.astype(int)
    n = len(frame)
    baseline = month < 2
    for item, mean in (("readiness_tools", 2.6), ("readiness_change", 3.2)):
        values = np.clip(np.rint(rng.normal(mean, 1.0, n)), 1, 5)
        frame[f"item_{item}"] = np.where(baseline, values, np.nan)
    told = month - (company.periods.tolist().index(pilot.starts_on) - 2)
    agree = 0.3 + 0.4 * np.clip(told / 6, 0, 1)
    values = np.where(
        rng.random(n) < agree, rng.integers(4, 6, n), rng.integers(1, 4, n)
    )
    frame["item_journey_vision"] = np.where(told >= 0, values, np.nan)
    return frame


def write_interactions(planned: Plan, folder: str | Path) -> Path:
    """Write the interaction log as ``interactions.csv`` in `folder`."""
    path = Path(folder) / "interactions.csv"
    pa_csv.write_csv(planned.interactions, path)
    return path


def record(store: Store, company, pilot: ProgrammeTruth, *, seed: int = 0) -> str:
    """Store the demo's initiative, one activity per phase, recognitions, actions
    on feedback and a maturity assessment; return the initiative's id."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(13,)))
    months = [dt.date.fromisoformat(str(p)) for p in company.periods]
    serving = _serving_units(company)
    programme.add_initiative(
        store,
        name="Omnichannel CRM: the front office designs it",
        owner="Transformation office",
        starts_on=months[0],
        ends_on=_month_end(months[-1]),
        initiative_id=INITIATIVE_ID,
    )
    for phase, name, units, first, last, status in _activities(months, serving, pilot):
        pilot_only = _pilot_fields(pilot, rng) if phase == "activate" else {}
        programme.add_activity(
            store,
            INITIATIVE_ID,
            phase=phase,
            name=name,
            units=units,
            starts_on=first,
            ends_on=last,
            status=status,
            owner="Programme team",
            **pilot_only,
        )
    _recognitions(store, pilot, months, rng)
    _actions(store, serving, months, rng)
    answers = {item: int(rng.integers(2, 5)) for item in maturity.ITEMS}
    maturity.record(store, answers, answered_on=months[0])
    return INITIATIVE_ID


def _activities(months, serving, pilot):
    """(phase, name, units, first day, last day, status) of the six phases."""
    start = months.index(pilot.starts_on)
    end = _month_end(months[-1])
    return [
        (
            "know",
            "Baseline pulse and readiness check",
            serving,
            months[0],
            _month_end(months[1]),
            "done",
        ),
        (
            "tell",
            "Roadmap roadshow in every region",
            serving,
            months[start - 2],
            _month_end(months[start - 1]),
            "done",
        ),
        (
            "activate",
            "Front-office co-design of the CRM",
            list(pilot.units),
            pilot.starts_on,
            end,
            "active",
        ),
        (
            "reward",
            "Recognition of the pilot teams",
            list(pilot.units),
            months[start + 3],
            end,
            "active",
        ),
        (
            "listen",
            "Monthly pulse and action review",
            serving,
            months[0],
            end,
            "active",
        ),
        ("measure", "EX-to-CX linkage review", serving, months[-3], end, "planned"),
    ]


def _pilot_fields(pilot: ProgrammeTruth, rng) -> dict:
    """The pilot's id, and per unit the front-office staff eligible and taking part."""
    eligible = {unit: int(rng.integers(8, 20)) for unit in pilot.units}
    taking_part = {unit: int(rng.integers(2, n + 1)) for unit, n in eligible.items()}
    return {
        "activity_id": pilot.activity_id,
        "eligible": eligible,
        "participants": taking_part,
    }


def _recognitions(store, pilot: ProgrammeTruth, months, rng) -> None:
    start = months.index(pilot.starts_on)
    # Every other pilot unit: each record is its own checked write (~50 ms).
    for unit in pilot.units[::2]:
        month = months[int(rng.integers(start + 3, len(months)))]
        programme.recognise(
            store,
            unit_id=unit,
            period=month,
            kind="team award",
            activity_id=pilot.activity_id,
        )


def _actions(store, serving, months, rng) -> None:
    for unit in serving[::6]:
        opened = months[int(rng.integers(1, len(months) - 1))]
        closed = opened + dt.timedelta(days=int(rng.integers(10, 60)))
        programme.add_action(
            store,
            unit_id=unit,
            opened_on=opened,
            description="Staffing of the lunch peak reviewed with the team",
            closed_on=closed if rng.random() < 0.7 else None,
        )


def _serving_units(company) -> list[str]:
    units = company.organisation.units.to_pandas()
    return sorted(units.loc[units["kind"].isin(["branch", "team"]), "unit_id"])


def _month_end(first: dt.date) -> dt.date:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)
