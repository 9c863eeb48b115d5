from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import excx
from excx import synth
from excx.cli import app
from excx.errors import InputError
from excx.linkage.link import ESTIMATE_COLUMNS, link

MODELS = {
    "correlation",
    "correlation_disattenuated",
    "fixed_effects",
    "fixed_effects_corrected",
    "fixed_effects_reverse",
    "multilevel",
    "chain_indirect",
    "chain_money",
}


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("link") / "excx.duckdb"
    with excx.connect(f"duckdb://{path}") as store:
        store.init()
        store.write(synth.generate("small", seed=1).tables)
    return path


def test_every_model_reports_a_row(store_path):
    with excx.connect(f"duckdb://{store_path}") as store:
        report = link(store, n_boot=200)

    estimates = report.estimates
    assert list(estimates.columns) == ESTIMATE_COLUMNS
    assert set(estimates["model"]) == MODELS
    fixed = estimates[estimates["model"] == "fixed_effects"].iloc[0]
    assert fixed["term"] == "enps_lag1"
    assert fixed["ci_low"] < fixed["estimate"] < fixed["ci_high"]
    reverse = estimates[estimates["model"] == "fixed_effects_reverse"].iloc[0]
    assert reverse["term"] == "nps_lag1"
    assert set(report.timings) == {"engine", "models", "bootstrap"}


def test_the_corrected_estimate_moves_away_from_zero(store_path):
    # Sampling error attenuates the naive slope; the correction divides by λ < 1.
    with excx.connect(f"duckdb://{store_path}") as store:
        report = link(store, n_boot=200)
    rows = report.estimates.set_index("model")
    naive = rows.loc["fixed_effects", "estimate"]
    corrected = rows.loc["fixed_effects_corrected", "estimate"]
    reliability = report.results["fixed_effects_corrected"].extras["reliability"]
    assert 0 < reliability < 1
    assert corrected == pytest.approx(naive / reliability)


def test_reliability_of_unit_scores_is_reported(store_path):
    with excx.connect(f"duckdb://{store_path}") as store:
        report = link(store, n_boot=200)
    icc2 = report.reliability.set_index(["kpi", "statistic"])["value"]
    assert 0 < icc2["enps", "ICC2"] < 1
    assert 0 < icc2["nps", "ICC2"] < 1


def test_cli_json_lists_estimates(store_path):
    result = CliRunner().invoke(
        app, ["link", "--store", str(store_path), "--format", "json", "--boot", "200"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    keys = {"model", "term", "estimate", "std_error", "ci_low", "ci_high"}
    keys |= {"p_value", "n_units", "n_periods"}
    assert all(keys <= set(row) for row in document["estimates"])
    assert {row["model"] for row in document["estimates"]} == MODELS


def test_an_empty_store_gives_no_estimates_rather_than_an_error(duckdb_store):
    assert link(duckdb_store).estimates.empty


def test_too_few_units_gives_reasons(duckdb_store):
    company = synth.generate("small", seed=1)
    units = company.tables["units"].to_pandas()
    served = units[units["kind"] == "branch"]
    keep = set(served["unit_id"].head(2))
    tables = {
        name: table.filter([u in keep for u in table.column("unit_id").to_pylist()])
        if "unit_id" in table.column_names and name != "units"
        else table
        for name, table in company.tables.items()
        if name not in ("employee_items", "customer_items")
    }
    duckdb_store.write(tables)
    estimates = link(duckdb_store, n_boot=100).estimates
    assert set(estimates["model"]) >= {"correlation", "fixed_effects"}
    missing = estimates[estimates["estimate"].isna()]
    assert {"correlation", "fixed_effects"} <= set(missing["model"])
    assert missing["reason"].notna().all()


def test_too_few_bootstrap_draws_is_an_input_error(store_path):
    with excx.connect(f"duckdb://{store_path}") as store:
        with pytest.raises(InputError, match="n_boot"):
            link(store, n_boot=0)


def test_a_store_without_customer_answers_gives_reasons(duckdb_store):
    company = synth.generate("small", seed=1)
    employee_side = {
        name: table
        for name, table in company.tables.items()
        if not name.startswith("customer")
    }
    duckdb_store.write(employee_side)
    estimates = link(duckdb_store, n_boot=100).estimates
    assert set(estimates["model"]) >= {"correlation", "multilevel", "fixed_effects"}
    assert estimates["estimate"].isna().all()
    assert estimates["reason"].notna().all()
