"""Difference-in-differences and event study of an activity."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from excx.errors import InputError, PreTrendWarning, PrivacyError
from excx.journey import programme
from excx.journey.did import RESULT_COLUMNS, did
from excx.journey.synth import programme as synth_programme
from excx.synth import generate

TREATED = ["u0", "u1", "u2", "u3", "u4"]


def _panel(effect=10.0, trend=0.0, noise=1.0, seed=0):
    """12 units x 12 months; the first 5 treated from July."""
    rng = np.random.default_rng(seed)
    cells = pd.DataFrame(
        [(f"u{u}", pd.Timestamp(2025, m, 1)) for u in range(12) for m in range(1, 13)],
        columns=["unit_id", "period"],
    )
    treated = cells["unit_id"].isin(TREATED)
    month = cells["period"].dt.month
    unit_level = cells["unit_id"].str[1:].astype(int) * 3.0
    cells["enps"] = (
        unit_level
        + 2.0 * month
        + effect * (treated & (month >= 7))
        + trend * treated * (month - 7)
        + rng.normal(0, noise, len(cells))
    )
    cells["enps_n"] = 20
    return cells


# A perfect fit leaves linearmodels a covariance of rounding errors, some below
# zero: their square root warns, and this test reads only the estimates.
@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt")
def test_exact_effect_without_noise_and_event_study_shape():
    # Noise-free data: unit and month effects absorb everything but the step of 10,
    # so the estimate is exactly the constructed effect.
    result = did(_panel(noise=0.0), {"units": TREATED, "starts_on": "2025-07-01"})
    assert list(result.effect.columns) == RESULT_COLUMNS
    effect = result.effect.iloc[0]
    assert effect["estimate"] == pytest.approx(10.0, abs=1e-8)
    assert (effect["n_units"], effect["n_treated"], effect["n_periods"]) == (12, 5, 12)
    study = result.event_study
    assert study["relative_period"].tolist() == list(range(-6, 6))
    reference = study[study["relative_period"] == -1].iloc[0]
    assert reference["estimate"] == 0 and np.isnan(reference["std_error"])
    assert study.loc[study["relative_period"] >= 0, "estimate"].to_numpy() == (
        pytest.approx(10.0, abs=1e-8)
    )
    assert study.loc[study["relative_period"] < -1, "estimate"].abs().max() < 1e-8


def test_noisy_effect_is_covered_and_window_trims_periods():
    result = did(
        _panel(noise=3.0, seed=1),
        {"units": TREATED, "starts_on": "2025-07-15"},
        window=3,
    )
    effect = result.effect.iloc[0]
    assert effect["ci_low"] < 10 < effect["ci_high"]
    assert effect["n_periods"] == 6
    assert result.event_study["relative_period"].tolist() == [-3, -2, -1, 0, 1, 2]


def test_pre_trend_warns():
    with pytest.warns(PreTrendWarning, match="pre-period coefficients"):
        result = did(
            _panel(trend=3.0, noise=1.0),
            {"units": TREATED, "starts_on": "2025-07-01"},
        )
    assert result.pretrend["p_value"].iloc[0] < 0.001


@pytest.mark.parametrize(
    ("activity", "message"),
    [
        ({"units": ["zz"], "starts_on": "2025-07-01"}, "has enps answers"),
        ({"units": [], "starts_on": "2025-07-01"}, "no units"),
        ({"units": TREATED, "starts_on": "2025-01-01"}, "periods before and from"),
        ("act-1", "needs the store"),
    ],
)
def test_refusals(activity, message):
    with pytest.raises(InputError, match=message):
        did(_panel(), activity)


def test_small_treated_group_is_private():
    cells = _panel().assign(enps_n=1)
    with pytest.raises(PrivacyError, match="threshold"):
        did(cells, {"units": ["u0"], "starts_on": "2025-12-01"}, window=1)


def test_did_from_the_store(store):
    """Tiny company on both backends: 8 units x 8 months x 6 respondents."""
    units = [f"b{i}" for i in range(8)]
    store.write(
        {"units": pa.table({"unit_id": units, "name": units, "kind": ["branch"] * 8})}
    )
    rng = np.random.default_rng(3)
    rows = pd.DataFrame(
        [(u, m, r) for u in range(8) for m in range(1, 9) for r in range(6)],
        columns=["unit", "month", "respondent"],
    )
    treated = (rows["unit"] < 4) & (rows["month"] >= 5)
    # Treated units after the start answer 10 instead of a draw from 5..8.
    score = np.where(treated, 10, rng.integers(5, 9, len(rows)))
    store.write(
        {
            "employee_responses": pa.table(
                {
                    "response_id": [f"e{i}" for i in range(len(rows))],
                    "unit_id": [f"b{u}" for u in rows["unit"]],
                    "submitted_at": pd.to_datetime(
                        {"year": 2025, "month": rows["month"], "day": 10}
                    ),
                    "enps": score.astype("int16"),
                }
            )
        }
    )
    crm = programme.add_initiative(
        store, name="CRM", starts_on="2025-01-01", ends_on="2025-12-31"
    )
    act = programme.add_activity(
        store,
        crm,
        phase="activate",
        name="Pilot",
        units=units[:4],
        starts_on="2025-05-01",
        ends_on="2025-08-31",
    )
    result = did(store, act, outcome="enps")
    effect = result.effect.iloc[0]
    # Before: answers 5..8 are detractors/passives, eNPS = -100 * P(5 or 6) = -50 in
    # expectation; after: +100. The DiD is 150 up to sampling noise of the controls.
    assert effect["ci_low"] < 150 < effect["ci_high"]
    assert effect["estimate"] == pytest.approx(150, abs=15)
    assert effect["n_treated"] == 4


@pytest.mark.parametrize("seed", [0, 3])
def test_known_truth_of_the_synthetic_programme(duckdb_store, seed):
    """Deliverable 6: synth sets +10 eNPS and +5 NPS from month 12 in half the
    units of every region; the 95% DiD intervals cover both set effects."""
    company = generate("small", seed=seed)
    extra, truth = synth_programme(company, enps_effect=10, nps_effect=5, seed=seed)
    duckdb_store.write(company.tables | extra)
    for outcome, effect in (("enps", truth.enps_effect), ("nps", truth.nps_effect)):
        with warnings.catch_warnings():
            warnings.simplefilter("error", PreTrendWarning)
            result = did(duckdb_store, truth.activity_id, outcome=outcome)
        row = result.effect.iloc[0]
        assert row["ci_low"] < effect < row["ci_high"], (outcome, row.to_dict())
        assert row["n_treated"] == len(truth.units) == 18


def test_synth_effect_is_exact_in_expectation():
    """The replacement probability p = effect / (100 - E) moves E by the effect:
    check on the answers themselves, pooled over treated post-start cells."""
    company = generate("small", seed=1)
    extra, truth = synth_programme(company, enps_effect=10, seed=1)
    before = company.tables["employee_responses"].to_pandas()
    after = extra["employee_responses"].to_pandas()
    post = before["unit_id"].isin(truth.units) & (
        before["submitted_at"] >= pd.Timestamp(truth.starts_on)
    )

    def enps(scores):
        return 100 * ((scores >= 9).mean() - (scores <= 6).mean())

    shift = enps(after.loc[post, "enps"]) - enps(before.loc[post, "enps"])
    # ~1,900 answers: the realised shift is 10 within a few points.
    assert shift == pytest.approx(10, abs=3)
    assert (after.loc[~post, "enps"].to_numpy() == before.loc[~post, "enps"]).all()
