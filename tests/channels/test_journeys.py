"""Journeys, paths and attribution on a hand-made log, on every backend."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from excx.channels import import_interactions
from excx.channels.journeys import attributed_nps, common_paths, journeys

DAY = dt.datetime(2025, 3, 1, 9)
# customer_ref: (steps as (hours after DAY, channel, served_by, unit), answer, NPS)
LOG = {
    "c1": ([(0, "chatbot", "bot", None), (1, "store", "human", "b1")], "r1", 10),
    "c2": ([(0, "store", "human", "b1")], "r2", 3),
    "c3": ([(0, "store", "human", "b1")], "r3", 9),
    "c4": (
        [
            (0, "store", "human", "b2"),
            (24, "store", "human", "b1"),
            (48, "store", "human", "b1"),
        ],
        "r4",
        0,
    ),
    "c5": ([(0, "web", "self_service", None)], "r5", 8),
    "c6": (
        [
            (0, "chatbot", "bot", None),
            (1, "web", "self_service", None),
            (2, "contact_centre", "human", "t1"),
        ],
        "r6",
        10,
    ),
    "c7": ([(0, "chatbot", "bot", None)], None, None),
}


@pytest.fixture
def logged(store):
    store.write(
        {
            "units": pa.table(
                {
                    "unit_id": ["b1", "b2", "t1"],
                    "name": ["B1", "B2", "T1"],
                    "kind": ["branch", "branch", "team"],
                }
            )
        }
    )
    answers, events = [], []
    for ref, (steps, response, nps) in LOG.items():
        for i, (hours, channel, served_by, unit) in enumerate(steps):
            last = i == len(steps) - 1
            at = DAY + dt.timedelta(hours=hours)
            events.append(
                (ref, at, channel, served_by, unit, response if last else None)
            )
            if last and response:
                answers.append((response, at, channel, served_by, unit, nps))
    names = ["response_id", "submitted_at", "channel", "served_by", "unit_id", "nps"]
    store.write(
        {
            "customer_responses": pa.table(
                dict(zip(names, zip(*answers, strict=True), strict=True))
            )
        }
    )
    names = [
        "customer_ref",
        "timestamp",
        "channel",
        "served_by",
        "unit_id",
        "response_id",
    ]
    import_interactions(
        store, pa.table(dict(zip(names, zip(*events, strict=True), strict=True)))
    )
    return store


def test_journey_flags(logged):
    frame = logged.to_pyarrow(journeys(logged)).to_pandas().set_index("customer_ref")
    assert frame.loc["c1", "path"] == "chatbot:bot > store:human"
    assert frame.loc["c6", "path"] == (
        "chatbot:bot > web:self_service > contact_centre:human"
    )
    # A hand-off is a bot step directly followed by a human one: c1 only.
    assert frame["handoff"].to_dict() == {
        "c1": True,
        "c2": False,
        "c3": False,
        "c4": False,
        "c5": False,
        "c6": False,
        "c7": False,
    }
    assert frame.loc[["c2", "c4"], "human_only"].all()
    assert not frame.loc[["c1", "c5", "c6", "c7"], "human_only"].any()
    assert frame.loc["c4", "steps"] == 3


def test_common_paths_and_their_nps(logged):
    paths = common_paths(logged, top=3)
    assert paths["path"].tolist() == [
        "store:human",
        "chatbot:bot",
        "chatbot:bot > store:human",
    ]
    first = paths.iloc[0]
    # Hand count: store:human = c2 (3, detractor) and c3 (9, promoter): NPS 0 of 2.
    assert (first["journeys"], first["n"], first["value"]) == (2, 2, 0.0)
    unanswered = paths.iloc[1]
    assert unanswered["n"] == 0 and unanswered["value"] != unanswered["value"]
    assert bool(paths.iloc[2]["handoff"]) and paths.iloc[2]["value"] == 100.0


def test_attribution_weights(logged):
    units = attributed_nps(logged).set_index("unit_id")
    # Hand computation for b1: weights c1 1 (promoter), c2 1 (detractor),
    # c3 1 (promoter), c4 2/3 (detractor): n = 11/3, promoters 2, detractors 5/3,
    # NPS = 100 (2 - 5/3) / (11/3) = 9.09; Kish n_eff = (11/3)^2 / (3 + 4/9) = 3.9032.
    assert units.loc["b1", "n"] == pytest.approx(11 / 3)
    assert units.loc["b1", "value"] == pytest.approx(100 * (1 / 3) / (11 / 3))
    assert units.loc["b1", "n_effective"] == pytest.approx((11 / 3) ** 2 / (31 / 9))
    assert units.loc["b2", "n"] == pytest.approx(1 / 3)
    assert units.loc["b2", "value"] == -100.0
    assert units.loc["t1", "value"] == 100.0
    assert units["n"].sum() == pytest.approx(5.0)  # answered journeys with a unit
    assert (units["ci_low"] <= units["value"]).all()


def test_handoff_cells_in_the_engine(logged):
    from excx.channels.human_touch import _handoff_cells

    cells = _handoff_cells(logged, "month").sort_values("handoff")
    # b1 in March: c1 hand-off (10: promoter); human-only c2 (3), c3 (9), c4 (0).
    # c6 (bot, web, then a person) is neither kind and is left out.
    assert cells["unit_id"].tolist() == ["b1", "b1"]
    assert cells[["handoff", "n", "promoters", "detractors"]].values.tolist() == [
        [0, 3, 1, 2],
        [1, 1, 1, 0],
    ]
    assert cells["nps"].tolist() == pytest.approx([-100 / 3, 100.0])


def test_common_paths_of_a_selection(logged):
    """Only journeys whose answer is from the units and days chosen count."""
    paths = common_paths(logged, units=["b1"]).set_index("path")
    # Answers at b1: c1 (hand-off, 10), c2 (3), c3 (9), c4 (0, three steps).
    assert paths["journeys"].to_dict() == {
        "store:human": 2,
        "chatbot:bot > store:human": 1,
        "store:human > store:human > store:human": 1,
    }
    assert paths.loc["store:human", "value"] == 0.0  # c2 detractor, c3 promoter
    # c4 is answered on day 3 (DAY + 48 h): the only b1 answer after day 2.
    later = (dt.date(2025, 3, 2), dt.date(2025, 3, 10))
    paths = common_paths(logged, units=["b1", "t1"], between=later)
    assert paths["path"].tolist() == ["store:human > store:human > store:human"]
    assert common_paths(logged, units=[]).empty
