from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from excx import synth
from excx.errors import InputError
from excx.linkage.item_drivers import item_drivers, item_means


@pytest.fixture
def filled(store):
    store.write(synth.generate("small", seed=2).tables)
    return store


def test_item_means_are_the_units_mean_answers(filled):
    means = item_means(filled).set_index("unit_id")
    items = filled.execute(filled.table("employee_items"))
    responses = filled.execute(filled.table("employee_responses"))
    joined = items.merge(responses[["response_id", "unit_id"]], on="response_id")
    # plain pandas over the same rows, as the reference
    expected = joined.groupby(["unit_id", "item_id"])["value"].mean().unstack()
    np.testing.assert_allclose(
        means.sort_index()[expected.columns].to_numpy(),
        expected.sort_index().to_numpy(),
    )


def test_weights_split_the_r2_of_unit_nps(filled):
    drivers = item_drivers(filled, outcome="nps", n_boot=200)
    assert len(drivers) == 5
    assert drivers["weight"].sum() == pytest.approx(drivers["r2"].iloc[0])
    assert (drivers["ci_low"] <= drivers["weight"]).all()


def test_enps_drivers_use_only_units_the_gate_shows(duckdb_store):
    company = synth.generate("small", seed=2)
    duckdb_store.write(company.tables)
    import excx.metrics

    gated = excx.metrics.enps(duckdb_store, by=("unit_id",))
    shown = int((~gated["suppressed"] & gated["value"].notna()).sum())
    drivers = item_drivers(duckdb_store, outcome="enps", n_boot=100)
    assert (drivers["n"] == shown).all()


def test_unknown_items_and_outcomes_are_named(filled):
    with pytest.raises(InputError, match="accepted: nps, enps"):
        item_drivers(filled, outcome="csat")
    with pytest.raises(InputError, match="have no answers"):
        item_drivers(filled, items=("pride", "nonsense"))


def test_no_items_gives_an_empty_frame(duckdb_store):
    assert item_drivers(duckdb_store).empty
    assert isinstance(item_means(duckdb_store), pd.DataFrame)
