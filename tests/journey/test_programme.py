"""Programme store operations: initiatives, activities, recognitions, refusals."""

from __future__ import annotations

import pyarrow as pa
import pytest

from excx.errors import InputError
from excx.journey import programme


@pytest.fixture
def units_store(store):
    store.write(
        {
            "units": pa.table(
                {
                    "unit_id": ["b1", "b2", "b3"],
                    "name": ["Branch 1", "Branch 2", "Branch 3"],
                    "kind": ["branch"] * 3,
                    "region": ["North", "North", "South"],
                }
            )
        }
    )
    return store


def _crm(store, **overrides):
    options = {"name": "CRM", "starts_on": "2025-01-01", "ends_on": "2025-12-31"}
    return programme.add_initiative(store, **(options | overrides))


def test_activity_with_units_is_listed_with_participants(units_store):
    crm = _crm(units_store, initiative_id="crm")
    act = programme.add_activity(
        units_store,
        crm,
        phase="Activate",
        name="Pilot",
        units=["b2", "b1"],
        starts_on="2025-03-01",
        ends_on="2025-04-30",
        participants={"b1": 4, "b2": 6},
        status="active",
    )
    listed = programme.activities(units_store)
    assert listed["activity_id"].tolist() == [act]
    assert listed["units"].tolist() == ["b1,b2"]
    assert int(listed["participants"].iloc[0]) == 10
    assert listed["phase"].iloc[0] == "activate"
    summary = programme.initiatives(units_store)
    assert summary[["initiative_id", "activities", "units"]].values.tolist() == [
        ["crm", 1, 2]
    ]
    assert programme.activity(units_store, act)["units"] == ["b1", "b2"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"units": []}, "has no units"),
        ({"units": ["b1", "zz9"]}, "unknown unit(s) zz9"),
        ({"starts_on": ""}, "starts_on is missing"),
        ({"ends_on": "2025-02-30"}, "is not a date"),
        ({"ends_on": "2025-02-01"}, "is before starts_on"),
        ({"phase": "dream"}, "accepted: know, tell"),
        ({"ends_on": "2026-02-01"}, "outside initiative"),
    ],
)
def test_bad_activity_is_refused_and_nothing_written(units_store, overrides, message):
    crm = _crm(units_store)
    options = {
        "phase": "tell",
        "name": "Roadshow",
        "units": ["b1"],
        "starts_on": "2025-03-01",
        "ends_on": "2025-03-31",
    }
    with pytest.raises(
        InputError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        programme.add_activity(units_store, crm, **(options | overrides))
    assert units_store.count("activities") == 0
    assert units_store.count("activity_units") == 0


def test_overlapping_initiatives_on_same_units_name_both(units_store):
    first = _crm(units_store, initiative_id="crm", name="CRM")
    programme.add_activity(
        units_store,
        first,
        phase="know",
        name="Baseline",
        units=["b1", "b2"],
        starts_on="2025-01-01",
        ends_on="2025-01-31",
    )
    second = _crm(
        units_store,
        initiative_id="app",
        name="New app",
        starts_on="2025-06-01",
        ends_on="2026-05-31",
    )
    with pytest.raises(InputError, match=r"'app'.*overlaps initiative 'crm'.*b2"):
        programme.add_activity(
            units_store,
            second,
            phase="tell",
            name="Launch",
            units=["b2", "b3"],
            starts_on="2025-07-01",
            ends_on="2025-07-31",
        )
    assert units_store.count("activities") == 1

    # Other units, or an initiative that starts after the first ends, are fine.
    programme.add_activity(
        units_store,
        second,
        phase="tell",
        name="Launch",
        units=["b3"],
        starts_on="2025-07-01",
        ends_on="2025-07-31",
    )
    later = _crm(
        units_store,
        initiative_id="y2",
        name="Year 2",
        starts_on="2026-06-01",
        ends_on="2026-12-31",
    )
    programme.add_activity(
        units_store,
        later,
        phase="know",
        name="Baseline",
        units=["b1"],
        starts_on="2026-06-01",
        ends_on="2026-06-30",
    )
    assert units_store.count("activities") == 3


def test_recognitions_and_actions(units_store):
    programme.recognise(units_store, unit_id="b1", period="2025-03-17", kind="award")
    stored = units_store.to_pyarrow(units_store.table("recognitions")).to_pylist()
    assert str(stored[0]["period"]) == "2025-03-01"
    with pytest.raises(InputError, match="unknown unit"):
        programme.recognise(units_store, unit_id="nope", period="2025-03-01", kind="x")
    programme.add_action(
        units_store,
        unit_id="b2",
        description="Fix rota",
        opened_on="2025-02-01",
        closed_on="2025-02-20",
    )
    with pytest.raises(InputError, match="before starts_on|is before"):
        programme.add_action(
            units_store,
            unit_id="b2",
            description="Late",
            opened_on="2025-02-01",
            closed_on="2025-01-20",
        )
    assert units_store.count("recognitions") == 1
    assert units_store.count("feedback_actions") == 1


def test_duplicate_initiative_id_is_refused(units_store):
    _crm(units_store, initiative_id="crm")
    with pytest.raises(InputError, match="already exists"):
        _crm(units_store, initiative_id="crm")
