"""Phase KPIs of an initiative on a small hand-made company, on every backend."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from excx.journey import phases, programme

# Respondents per unit and month (January to May 2025). b4 is below the threshold,
# so the gate also hides the smallest shown sibling, b2 (complementary suppression).
SIZES = {"b1": 6, "b2": 5, "b3": 6, "b4": 2}
ENPS = {"b1": 10, "b2": 9, "b3": 0, "b4": 8}
# Respondents agreeing with the vision item per month (Feb..May), units b1 and b2.
VISION_AGREE = {"b1": [2, 3, 4, 5], "b2": [1, 1, 2, 2]}


def _answers():
    responses, items = [], []
    for unit, size in SIZES.items():
        for month in range(1, 6):
            for i in range(size):
                rid = f"{unit}-{month}-{i}"
                responses.append(
                    (
                        rid,
                        unit,
                        dt.datetime(2025, month, 10),
                        ENPS[unit],
                        "idea" if i < 2 else None,
                    )
                )
                items.append((rid, "energy", 4))
                if month == 1:
                    items.append((rid, "readiness_tools", 5 if i < 4 else 2))
                if month >= 2 and unit in VISION_AGREE:  # only b1, b2 are asked
                    agree = VISION_AGREE[unit][month - 2]
                    items.append((rid, "journey_vision", 5 if i < agree else 2))
    names = ["response_id", "unit_id", "submitted_at", "enps", "comment"]
    columns = dict(zip(names, zip(*responses, strict=True), strict=True))
    columns["enps"] = pa.array(columns["enps"], pa.int16())
    item_columns = dict(
        zip(["response_id", "item_id", "value"], zip(*items, strict=True), strict=True)
    )
    item_columns["value"] = pa.array(item_columns["value"], pa.int16())
    return pa.table(columns), pa.table(item_columns)


@pytest.fixture
def company(store):
    responses, items = _answers()
    store.write(
        {
            "units": pa.table(
                {
                    "unit_id": list(SIZES),
                    "name": list(SIZES),
                    "kind": ["branch"] * 4,
                    "region": ["North"] * 4,
                }
            ),
            "employee_responses": responses,
            "employee_items": items,
            "surveys": pa.table(
                {
                    "survey_id": [f"p{m}" for m in range(1, 6)],
                    "audience": ["employee"] * 5,
                    "kind": ["pulse"] * 5,
                    "opens_at": pa.array(
                        [dt.datetime(2025, m, 1) for m in range(1, 6)],
                        pa.timestamp("us"),
                    ),
                }
            ),
        }
    )
    programme.add_initiative(
        store,
        name="CRM",
        starts_on="2025-02-01",
        ends_on="2025-05-31",
        initiative_id="crm",
    )
    programme.add_activity(
        store,
        "crm",
        phase="activate",
        name="Pilot",
        units=["b1", "b2"],
        starts_on="2025-02-01",
        ends_on="2025-03-31",
        participants={"b1": 4, "b2": 1},
        eligible={"b1": 5, "b2": 3},
    )
    programme.recognise(store, unit_id="b1", period="2025-03-01", kind="award")
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


def _rows(frame, kpi):
    return frame[frame["kpi"] == kpi].set_index(
        "unit_id"
        if frame.loc[frame["kpi"] == kpi, "unit_id"].notna().any()
        else "period"
    )


def test_phase_kpis_from_the_data(company):
    """All phases in one call per backend (the privacy gate takes ~1 s a call)."""
    frame = phases.phase_kpis(company, "crm")
    assert list(frame.columns) == phases.KPI_COLUMNS
    assert set(frame["phase"]) == {"know", "tell", "activate", "reward", "listen"}
    by_phase = {name: part for name, part in frame.groupby("phase")}
    _check_know(by_phase["know"])
    _check_tell(by_phase["tell"])
    _check_activate_reward_listen(
        by_phase["activate"], by_phase["reward"], by_phase["listen"]
    )


def _check_know(know):
    enps = _rows(know, "enps")
    # January baseline: every b1 answer is 10 -> eNPS 100 over 6; b2 is hidden by
    # the gate (complementary to b4), never dropped.
    assert enps.loc["b1", "value"] == 100.0 and enps.loc["b1", "n"] == 6
    assert bool(enps.loc["b2", "suppressed"]) and np.isnan(enps.loc["b2", "value"])
    assert list(enps.index) == ["b1", "b2"]  # lowest shown eNPS first, hidden last
    readiness = _rows(know, "item_readiness_tools")
    # 4 of b1's 6 January answers agree: 66.7 %.
    assert readiness.loc["b1", "value"] == pytest.approx(400 / 6)
    assert bool(readiness.loc["b2", "suppressed"])


def _check_tell(tell):
    b1 = tell[(tell["kpi"] == "item_journey_vision") & (tell["unit_id"] == "b1")]
    assert b1["value"].tolist() == pytest.approx([200 / 6, 300 / 6, 400 / 6, 500 / 6])
    trend = tell[tell["kpi"] == "journey_vision_trend"].iloc[0]
    # Pooled b1 + b2 (11 answers a month): 3, 4, 6, 7 agree. Least squares by hand
    # with x = 0..3: slope = 100/11 * (-1.5*3 - 0.5*4 + 0.5*6 + 1.5*7) / 5 = 12.73.
    assert trend["value"] == pytest.approx(100 / 11 * 7 / 5)
    assert trend["ci_low"] < trend["value"] < trend["ci_high"]
    assert trend["n"] == 4


def _check_activate_reward_listen(activate, reward, listen):
    part = _rows(activate, "participation")
    assert part.loc["b1", "value"] == 80.0 and part.loc["b2", "n"] == 3
    assert activate.loc[activate["kpi"] == "coverage", "value"].item() == 100.0

    assert _rows(reward, "recognitions")["value"].to_dict() == {"b1": 1.0, "b2": 0.0}
    assert reward.loc[reward["kpi"] == "recognised_share", "value"].item() == 50.0
    # One recognition: a change is computed (b1, Jan-Feb vs Apr-May) but a mean
    # change needs two for its interval, so the value stays null.
    change = reward[reward["kpi"] == "engagement_change"].iloc[0]
    assert change["n"] == 1 and np.isnan(change["value"])

    pulses = listen[listen["kpi"] == "pulses"].iloc[0]
    assert pulses["n"] == 4  # February to May
    respondents = _rows(listen, "respondents")
    assert respondents["value"].tolist() == [11.0] * 4
    comments = _rows(listen, "comments")
    # 11 respondents a month (b1 + b2) reach the comment threshold of 10; each
    # unit's first two respondents commented.
    assert comments["value"].tolist() == [4.0] * 4
    closed = listen[listen["kpi"] == "actions_closed"].iloc[0]
    assert (closed["n"], closed["value"]) == (2, 50.0)
    assert listen.loc[listen["kpi"] == "days_to_close", "value"].item() == 10.0


def test_unknown_initiative(company):
    with pytest.raises(ValueError, match="does not exist"):
        phases.phase_kpis(company, "nope")


def test_measure_runs_the_linkage_on_the_whole_store(duckdb_store):
    from excx.journey.synth import programme as synth_programme
    from excx.synth import generate

    company = generate("small", seed=0)
    extra, truth = synth_programme(company, seed=0)
    duckdb_store.write(company.tables | extra)
    frame = phases.measure(duckdb_store, "ini-omnichannel", n_boot=100)
    assert list(frame.columns) == phases.KPI_COLUMNS
    assert (frame["phase"] == "measure").all()
    corrected = frame[frame["kpi"] == "fixed_effects_corrected:enps_lag1"].iloc[0]
    # The synthetic bank's true lagged effect is 0.514 NPS points per eNPS point
    # (excx.synth docstring); the linkage interval is checked in tests/linkage.
    assert corrected["ci_low"] < 0.514 < corrected["ci_high"]
    assert corrected["note"].startswith("whole store")


def test_one_phase_and_unknown_phase(company):
    frame = phases.phase_kpis(company, "crm", phases=["Activate"])
    assert set(frame["phase"]) == {"activate"}
    with pytest.raises(ValueError, match="accepted: know, tell"):
        phases.phase_kpis(company, "crm", phases=["dream"])
