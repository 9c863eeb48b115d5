"""Maturity: are the prerequisites of an engagement journey in place?

A short questionnaire of 15 statements (three per dimension), each answered on
the 1–5 agreement scale, scores five prerequisites: top-management commitment,
change management, organisation, budget, and data & measurement. The profile
gives each dimension a 0–100 score and ranks them, lowest first, with what to do
first.

>>> from excx.journey import maturity
>>> answers = {item: 4 for item in maturity.ITEMS}
>>> answers.update({"budget_1": 1, "budget_2": 2, "budget_3": 1})
>>> profile = maturity.score(answers)
>>> first = profile.iloc[0]
>>> first["dimension"], round(float(first["value"]), 1), int(first["priority"])
('budget', 8.3, 1)
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from excx.errors import InputError
from excx.schema import SCORE_RANGES
from excx.store import Store

__all__ = ["DIMENSIONS", "ITEMS", "score", "record", "answers_of"]

_LOW, _HIGH = SCORE_RANGES["item"]

# dimension -> (label, recommendation when it is the weakest)
DIMENSIONS: dict[str, tuple[str, str]] = {
    "commitment": (
        "Top-management commitment",
        "Get an executive sponsor to own the journey: name the programme in the "
        "strategy, give it a steering slot and report its KPIs to the board.",
    ),
    "change": (
        "Change management",
        "Plan the change before the tools: map who is affected, train front-office "
        "champions and schedule the Tell phase (vision, roadmap, what changes).",
    ),
    "organisation": (
        "Organisation",
        "Give the journey an owner and a team across HR, CX and operations, with "
        "unit managers accountable for their unit's actions.",
    ),
    "budget": (
        "Budget",
        "Secure a ring-fenced budget for activation, recognition and listening, "
        "tied to the initiative's milestones.",
    ),
    "data": (
        "Data & measurement",
        "Put employee and customer feedback in one store with a shared unit "
        "structure, run a monthly pulse and a transactional customer survey, and "
        "agree how the link will be measured.",
    ),
}

# item_id -> (dimension, statement answered 1 = strongly disagree .. 5 = agree)
ITEMS: dict[str, tuple[str, str]] = {
    "commitment_1": ("commitment", "The executive team sponsors the programme."),
    "commitment_2": ("commitment", "Leaders talk about employee experience often."),
    "commitment_3": ("commitment", "Programme KPIs are reviewed at board level."),
    "change_1": ("change", "There is a change plan for front-office staff."),
    "change_2": ("change", "Employees were told why and how work will change."),
    "change_3": ("change", "Champions in the units support their colleagues."),
    "organisation_1": ("organisation", "One person owns the engagement journey."),
    "organisation_2": ("organisation", "HR, CX and operations work as one team."),
    "organisation_3": ("organisation", "Unit managers own their unit's actions."),
    "budget_1": ("budget", "The programme has a dedicated budget."),
    "budget_2": ("budget", "Recognition and training are funded."),
    "budget_3": ("budget", "The budget is secured for the whole initiative."),
    "data_1": ("data", "Employee and customer feedback share one unit structure."),
    "data_2": ("data", "Employee pulses run at least quarterly."),
    "data_3": ("data", "We can measure the link from eNPS to NPS."),
}

SCORE_COLUMNS = ["dimension", "label", "n", "value", "priority", "recommendation"]


def score(answers: Mapping[str, int] | pd.DataFrame) -> pd.DataFrame:
    """The readiness profile: a 0–100 score per dimension, weakest first.

    Parameters
    ----------
    answers
        Item id to answer (1–5), or a frame with ``item_id`` and ``value`` (for
        several respondents: one row per respondent and item). Items left out
        are treated as unanswered.

    Returns
    -------
    pandas.DataFrame
        One row per dimension, columns ``dimension, label, n, value, priority,
        recommendation``: ``n`` answers, ``value`` the score, ``priority`` 1 for
        the dimension to work on first. Unanswered dimensions have a null value
        and come last.

    Notes
    -----
    ``value = 100 × (mean answer − 1) / 4`` over the dimension's answers. Ties
    keep the order of :data:`DIMENSIONS`.

    Examples
    --------
    >>> profile = score({"data_1": 5, "data_2": 3, "budget_1": 1})
    >>> profile[["dimension", "n", "value"]].head(2).values.tolist()
    [['budget', 1, 0.0], ['data', 2, 75.0]]
    """
    frame = _answers_frame(answers)
    frame["dimension"] = frame["item_id"].map(lambda item: ITEMS[item][0])
    grouped = frame.groupby("dimension")["value"].agg(["count", "mean"])
    rows = []
    for order, (dimension, (label, advice)) in enumerate(DIMENSIONS.items()):
        n = int(grouped["count"].get(dimension, 0))
        mean = grouped["mean"].get(dimension, np.nan)
        value = 100 * (mean - _LOW) / (_HIGH - _LOW) if n else np.nan
        rows.append((dimension, label, n, value, order, advice))
    profile = pd.DataFrame(
        rows, columns=["dimension", "label", "n", "value", "order", "recommendation"]
    )
    profile = profile.sort_values(["value", "order"], na_position="last")
    profile["priority"] = np.arange(1, len(profile) + 1)
    return profile[SCORE_COLUMNS].reset_index(drop=True)


def record(
    store: Store,
    answers: Mapping[str, int],
    *,
    assessment_id: str | None = None,
    answered_on: dt.date | None = None,
) -> str:
    """Store one questionnaire's answers (all or nothing); return the assessment id."""
    frame = _answers_frame(answers)
    assessment_id = assessment_id or f"mat-{uuid.uuid4().hex[:10]}"
    if len(store.existing_keys("maturity_answers", pa.array([assessment_id]))):
        raise InputError(f"assessment {assessment_id!r} already exists")
    day = answered_on or dt.date.today()
    rows = pa.table(
        {
            "assessment_id": [assessment_id] * len(frame),
            "item_id": frame["item_id"].tolist(),
            "value": frame["value"].astype("int16").tolist(),
            "answered_on": [day] * len(frame),
        }
    )
    store.write({"maturity_answers": rows})
    return assessment_id


def answers_of(store: Store, assessment_id: str) -> pd.DataFrame:
    """The stored answers of one assessment, as ``item_id, value``."""
    table = store.table("maturity_answers")
    chosen = table.filter(table.assessment_id == assessment_id)
    frame = store.to_pyarrow(chosen.select("item_id", "value")).to_pandas()
    if frame.empty:
        raise InputError(f"assessment {assessment_id!r} has no answers in the store")
    return frame


def _answers_frame(answers: Mapping[str, int] | pd.DataFrame) -> pd.DataFrame:
    if isinstance(answers, pd.DataFrame):
        missing = {"item_id", "value"} - set(answers.columns)
        if missing:
            raise InputError(f"answers lack column(s) {sorted(missing)}")
        frame = answers[["item_id", "value"]].copy()
    else:
        frame = pd.DataFrame(list(answers.items()), columns=["item_id", "value"])
    frame = frame.dropna(subset=["value"])
    unknown = sorted(set(frame["item_id"]) - set(ITEMS))
    if unknown:
        raise InputError(
            f"unknown maturity item(s) {unknown}; accepted: {', '.join(ITEMS)}"
        )
    values = pd.to_numeric(frame["value"], errors="coerce")
    bad = frame[values.isna() | ~values.between(_LOW, _HIGH) | (values % 1 != 0)]
    if len(bad):
        first = bad.iloc[0]
        value = first["value"]
        value = value.item() if isinstance(value, np.generic) else value
        raise InputError(
            f"maturity item {first['item_id']!r} has answer {value!r}; "
            f"accepted: whole numbers {_LOW}..{_HIGH} ({len(bad)} bad answer(s))"
        )
    return frame.assign(value=values.astype(float)).reset_index(drop=True)
