from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import excx.metrics
from excx import synth
from excx.errors import InputError
from excx.linkage.panel import PANEL_COLUMNS, displayable, panel


@pytest.fixture(scope="module")
def company():
    return synth.generate("small", seed=3)


@pytest.fixture
def filled(store, company):
    store.write(company.tables)
    return store


def _keyed(frame: pd.DataFrame, value: str) -> pd.Series:
    keys = zip(frame["unit_id"], pd.to_datetime(frame["period"]), strict=True)
    return pd.Series(frame[value].to_numpy(), index=pd.MultiIndex.from_tuples(keys))


# The small company has CES cells of one answer; that warning is tested with the
# metrics (tests/metrics/test_compute.py), here it is expected.
@pytest.mark.filterwarnings("ignore::excx.errors.SmallSampleWarning")
def test_panel_matches_the_metrics_api_on_every_backend(filled):
    built = panel(filled)

    assert list(built.columns) == PANEL_COLUMNS
    assert not built.duplicated(["unit_id", "period"]).any()
    for kpi in ("nps", "csat", "ces"):
        reported = excx.metrics.compute(filled, kpi, by=("unit_id", "period"))
        reported = reported[reported["unit_id"].notna()]
        expected = _keyed(reported, "value")
        got = _keyed(built, kpi).reindex(expected.index)
        np.testing.assert_allclose(got, expected, rtol=1e-9, err_msg=kpi)


def test_panel_keeps_small_cells_that_the_gate_hides(filled):
    built = panel(filled)
    gated = excx.metrics.enps(filled, by=("unit_id", "period"))

    hidden = gated[gated["suppressed"]]
    assert len(hidden) > 0, "the small company has cells under the threshold"
    raw = _keyed(built, "enps").reindex(_keyed(hidden, "value").index)
    assert raw.notna().all()

    shown = displayable(filled, built)
    shown_hidden = _keyed(shown, "suppressed").reindex(raw.index)
    assert shown_hidden.all()
    visible = gated[~gated["suppressed"]]
    np.testing.assert_allclose(
        _keyed(shown, "enps").reindex(_keyed(visible, "value").index),
        _keyed(visible, "value"),
    )


def test_digital_answers_without_a_unit_stay_out(filled, company):
    customers = company.tables["customer_responses"].to_pandas()
    assert customers["unit_id"].isna().any(), "the company has unit-less answers"

    built = panel(filled)
    served = customers[customers["unit_id"].notna() & customers["nps"].notna()]
    assert built["nps_n"].sum() == len(served)


def test_enps_sampling_variance_is_the_multinomial_one(filled):
    built = panel(filled).dropna(subset=["enps"])
    row = built.iloc[0]
    answers = filled.execute(filled.table("employee_responses"))
    month = answers["submitted_at"].dt.to_period("M").dt.start_time
    scores = answers.loc[
        (answers["unit_id"] == row["unit_id"]) & (month == row["period"]), "enps"
    ].dropna()
    promoters, detractors = (scores >= 9).mean(), (scores <= 6).mean()
    # Var(pP − pD) for one multinomial sample, on the −100..100 scale
    expected = 100**2 * (promoters + detractors - (promoters - detractors) ** 2)
    assert row["enps_var"] == pytest.approx(expected / len(scores))


def test_unknown_period_names_the_accepted_ones(duckdb_store):
    with pytest.raises(InputError, match="month"):
        panel(duckdb_store, period="week")
