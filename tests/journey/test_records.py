"""Listing recognitions and feedback actions, with their filters, on every backend."""

from __future__ import annotations

import pyarrow as pa
import pytest

from excx.errors import InputError
from excx.journey import programme
from excx.journey.records import feedback_actions, recognitions


@pytest.fixture
def recorded(store):
    units = ["b1", "b2"]
    store.write(
        {"units": pa.table({"unit_id": units, "name": units, "kind": ["branch"] * 2})}
    )
    programme.recognise(store, unit_id="b1", period="2025-03-20", kind="award")
    programme.recognise(store, unit_id="b2", period="2025-03-01", kind="thanks")
    programme.recognise(store, unit_id="b1", period="2025-05-02", kind="bonus")
    programme.add_action(
        store,
        unit_id="b1",
        description="Rota",
        opened_on="2025-02-03",
        closed_on="2025-02-13",
    )
    programme.add_action(
        store, unit_id="b2", description="Tools", opened_on="2025-03-01"
    )
    return store


def test_recognitions_latest_month_first_and_filtered(recorded):
    every = recognitions(recorded)
    assert every[["unit_id", "kind"]].values.tolist() == [
        ["b1", "bonus"],
        ["b1", "award"],
        ["b2", "thanks"],
    ]
    assert str(every["period"].iloc[1])[:10] == "2025-03-01"  # the month's first day
    march = recognitions(recorded, period="2025-03-31", units=["b1"])
    assert march["kind"].tolist() == ["award"]
    assert recognitions(recorded, activity_id="nope").empty
    with pytest.raises(InputError, match="period='March' is not a date"):
        recognitions(recorded, period="March")


def test_feedback_actions_by_status(recorded):
    assert feedback_actions(recorded)["description"].tolist() == ["Tools", "Rota"]
    assert feedback_actions(recorded, status="open")["unit_id"].tolist() == ["b2"]
    closed = feedback_actions(recorded, status="closed", units=["b1", "b2"])
    assert closed["description"].tolist() == ["Rota"]
    assert feedback_actions(recorded, units=[]).empty
    with pytest.raises(InputError, match="accepted: open, closed"):
        feedback_actions(recorded, status="pending")
