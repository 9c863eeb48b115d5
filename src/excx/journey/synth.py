"""Programme data for the synthetic bank, with one activity of known effect.

:func:`programme` takes a :class:`excx.synth.Company` and returns an initiative,
one Activate activity run in half the serving units of some regions from a given
month on, and the company's answer tables with the activity's effect applied:
after the start, a treated unit's expected eNPS (and, optionally, its
human-served customers' expected NPS) rises by exactly the set number of points.

How the effect is set. For a treated unit u in month t ≥ start with expected
eNPS E[u,t] (from ``company.truth.panel``), each answer is replaced by a 10 with
probability ``p = effect / (100 − E[u,t])`` (a negative effect: by a 0 with
probability ``−effect / (100 + E[u,t])``). A 10 scores +100, so the expected eNPS
becomes ``(1 − p) E + 100 p = E + effect``. The same holds for NPS.
Engagement items are left as they were.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from excx.errors import InputError

__all__ = ["ProgrammeTruth", "programme"]

INITIATIVE_ID = "ini-omnichannel"
ACTIVITY_ID = "act-pilot"


@dataclass(frozen=True)
class ProgrammeTruth:
    """What :func:`programme` set.

    Attributes
    ----------
    activity_id, units, starts_on
        The activity with the effect, its treated units and its first day.
    enps_effect, nps_effect
        Change of the treated units' expected eNPS and human-served NPS, in
        points, in every month from the start on.
    """

    activity_id: str
    units: tuple[str, ...]
    starts_on: dt.date
    enps_effect: float
    nps_effect: float


def programme(
    company,
    *,
    enps_effect: float = 10.0,
    nps_effect: float = 0.0,
    start_month: int = 12,
    regions: int | None = None,
    share: float = 0.5,
    seed: int = 0,
) -> tuple[dict[str, pa.Table], ProgrammeTruth]:
    """Programme tables and answers with a set activity effect.

    Parameters
    ----------
    company
        A company from :func:`excx.synth.generate`.
    enps_effect, nps_effect
        Points added to the treated units' expected eNPS and human-served NPS
        from the start month on.
    start_month
        Month index (0 = the company's first month) when the activity starts.
    regions, share
        The activity runs in ``share`` of the serving units (rounded up) of each
        of the first `regions` regions (None: every region). Clustered errors
        need many treated units: with one region of the small company (3
        treated units) the intervals and the pre-trend test are unreliable.
    seed
        Seed of the replacement draws.

    Returns
    -------
    tables, truth
        ``initiatives``, ``activities``, ``activity_units`` and the company's
        ``employee_responses`` and ``customer_responses`` with the effect applied
        (write them instead of the company's own); and a :class:`ProgrammeTruth`.

    Examples
    --------
    >>> from excx.synth import generate
    >>> tables, truth = programme(generate("small", seed=0), enps_effect=10)
    >>> truth.enps_effect, len(truth.units)
    (10.0, 18)
    """
    if not 0 < start_month < company.params.months:
        raise InputError(
            f"start_month={start_month}; accepted: 1..{company.params.months - 1}"
        )
    units = _treated_units(company, regions, share)
    periods = company.periods
    starts_on = dt.date.fromisoformat(str(periods[start_month]))
    ends_on = dt.date.fromisoformat(str(periods[-1]))
    first = dt.date.fromisoformat(str(periods[0]))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))

    expected = company.truth.panel.to_pandas()
    expected["period"] = pd.to_datetime(expected["period"])
    responses = company.tables
    employees = _apply(
        responses["employee_responses"],
        "enps",
        expected,
        "expected_enps",
        units,
        starts_on,
        enps_effect,
        rng,
    )
    customers = _apply(
        responses["customer_responses"],
        "nps",
        expected,
        "expected_nps",
        units,
        starts_on,
        nps_effect,
        rng,
    )
    tables = _records(units, first, starts_on, ends_on)
    tables |= {"employee_responses": employees, "customer_responses": customers}
    truth = ProgrammeTruth(
        ACTIVITY_ID, units, starts_on, float(enps_effect), float(nps_effect)
    )
    return tables, truth


def _records(units, first, starts_on, ends_on) -> dict[str, pa.Table]:
    """The initiative, its Activate activity and the activity's units."""
    return {
        "initiatives": pa.table(
            {
                "initiative_id": [INITIATIVE_ID],
                "name": ["Omnichannel CRM"],
                "owner": ["Transformation office"],
                "starts_on": [first],
                "ends_on": [ends_on],
            }
        ),
        "activities": pa.table(
            {
                "activity_id": [ACTIVITY_ID],
                "initiative_id": [INITIATIVE_ID],
                "phase": ["activate"],
                "name": ["Front-office co-design of the CRM"],
                "owner": ["Regional director"],
                "starts_on": [starts_on],
                "ends_on": [ends_on],
                "status": ["active"],
                "evidence": ["synthetic"],
            }
        ),
        "activity_units": pa.table(
            {"activity_id": [ACTIVITY_ID] * len(units), "unit_id": list(units)}
        ),
    }


def _treated_units(company, regions: int, share: float) -> tuple[str, ...]:
    units = company.organisation.units.to_pandas()
    serving = units[units["kind"].isin(["branch", "team"])]
    names = sorted(serving["region"].dropna().unique())
    regions = len(names) if regions is None else regions
    if not 1 <= regions <= len(names):
        raise InputError(f"regions={regions}; accepted: 1..{len(names)}")
    if not 0 < share <= 1:
        raise InputError(f"share={share}; accepted: more than 0, at most 1")
    chosen: list[str] = []
    for region in names[:regions]:
        ids = sorted(serving.loc[serving["region"] == region, "unit_id"])
        chosen += ids[: int(np.ceil(share * len(ids)))]
    return tuple(chosen)


def _apply(answers, column, expected, expected_column, units, starts_on, effect, rng):
    """Replace treated post-start answers by 10 (or 0) with the exact probability."""
    if effect == 0:
        return answers
    frame = pd.DataFrame(
        {
            "unit_id": answers.column("unit_id").to_pandas(),
            "period": answers.column("submitted_at")
            .to_pandas()
            .dt.to_period("M")
            .dt.to_timestamp(),
        }
    )
    frame = frame.merge(
        expected[["unit_id", "period", expected_column]],
        on=["unit_id", "period"],
        how="left",
    )
    treated = frame["unit_id"].isin(units) & (frame["period"] >= str(starts_on))
    if column == "nps":
        treated &= (answers.column("served_by").to_pandas() == "human").to_numpy()
    base = frame[expected_column].to_numpy(dtype=float)
    if effect > 0:
        probability, replacement = effect / (100 - base), 10
    else:
        probability, replacement = -effect / (100 + base), 0
    if np.nanmax(np.where(treated, probability, 0)) > 1:
        raise InputError(f"an effect of {effect} points is too large for {column}")
    mask = answers.column(column).is_null().to_numpy(zero_copy_only=False)
    replace = treated.to_numpy() & ~mask & (rng.random(len(frame)) < probability)
    values = answers.column(column).fill_null(0).to_numpy(zero_copy_only=False)
    values = np.where(replace, replacement, values)
    index = answers.schema.get_field_index(column)
    return answers.set_column(index, column, pa.array(values, pa.int16(), mask=mask))
