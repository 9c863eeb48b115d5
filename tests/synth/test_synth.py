"""The synthetic bank: determinism, schema, sizes and the causal structure it promises.

The reference for every expected number here is the model itself, as documented in
``excx.synth`` (its parameters and the linear mixing of answer distributions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
import statsmodels.formula.api as smf

from excx.errors import InputError
from excx.synth import SIZES, SynthParams, generate, write_files


@pytest.fixture(scope="module")
def company():
    return generate("small", seed=0)


def _nps(scores: pd.Series) -> float:
    return 100 * ((scores >= 9).mean() - (scores <= 6).mean())


def _unit_months(company) -> pd.DataFrame:
    """Observed unit x month NPS (human-served) and eNPS, with eNPS of month t-1."""
    customers = company.tables["customer_responses"].to_pandas()
    employees = company.tables["employee_responses"].to_pandas()
    customers = customers[customers.served_by == "human"]
    keys = {"unit_id": "unit_id", "period": "period"}
    for frame in (customers, employees):
        frame["period"] = frame.submitted_at.dt.to_period("M")
    panel = pd.concat(
        [
            customers.groupby(list(keys)).nps.apply(_nps),
            employees.groupby(list(keys)).enps.apply(_nps),
        ],
        axis=1,
    ).reset_index()
    panel = panel.sort_values(["unit_id", "period"])
    panel["enps_before"] = panel.groupby("unit_id").enps.shift()
    panel["region"] = panel.unit_id.str.split("-").str[0]
    return panel.dropna()


def test_same_seed_same_company_other_seed_other_company():
    first, again, other = (generate("small", seed=s) for s in (7, 7, 8))
    for name, data in first.tables.items():
        assert data.equals(again.tables[name]), name
    customers = first.tables["customer_responses"]
    assert not customers.equals(other.tables["customer_responses"])
    assert first.truth.panel.equals(again.truth.panel)


def test_tables_load_into_the_store(company, duckdb_store):
    duckdb_store.write(company.tables)

    for name, data in company.tables.items():
        assert duckdb_store.count(name) == data.num_rows, name


def test_small_size(company):
    units = company.tables["units"]
    serving = pc.is_in(units.column("kind"), pc.cast(["branch", "team"], "string"))
    assert pc.sum(serving).as_py() == 30  # 6 regions x (4 branches + 1 team)
    assert 18_000 < company.tables["customer_responses"].num_rows < 22_000
    assert company.tables["unit_outcomes"].num_rows == 24 * 24  # branches x months


def test_medium_and_large_sizes_are_what_the_demo_and_benchmarks_need():
    medium = generate("medium", seed=0)  # only the layout: answers are drawn lazily
    assert len(medium.organisation.unit_id) >= 200
    assert medium.customer_counts.sum() >= 1_000_000
    assert SIZES["large"].customer_responses == 20_000_000


def test_scores_within_canonical_ranges(company):
    customers = company.tables["customer_responses"]
    for column, (low, high) in {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}.items():
        bounds = pc.min_max(customers.column(column)).as_py()
        assert (bounds["min"], bounds["max"]) == (low, high), column
    assert customers.column("csat").null_count > 0


def test_digital_contacts_have_no_unit(company):
    customers = company.tables["customer_responses"].to_pandas()
    human = customers.served_by == "human"
    assert customers.unit_id[human].notna().all()
    assert customers.unit_id[~human].isna().all()
    assert set(customers.channel[~human]) == {"chatbot", "contact_centre", "web", "app"}


def test_affluence_confounds_engagement_and_nps(company):
    employees = company.tables["employee_responses"].to_pandas()
    customers = company.tables["customer_responses"].to_pandas()
    names = company.tables["units"].to_pandas().set_index("unit_id")["region"]
    by_region = pd.DataFrame(
        {
            "affluence": pd.Series(company.truth.affluence),
            "enps": employees.groupby(employees.unit_id.map(names)).enps.apply(_nps),
            "nps": customers[customers.served_by == "human"]
            .groupby(customers.unit_id.map(names))
            .nps.apply(_nps),
        }
    )
    correlations = by_region.corr()["affluence"]
    assert correlations["enps"] > 0.7
    assert correlations["nps"] > 0.7


def test_bots_score_below_people(company):
    customers = company.tables["customer_responses"].to_pandas()
    nps = customers.groupby("served_by").nps.apply(_nps)
    assert nps["bot"] < nps["human"] - 10
    truth = company.truth.expected_nps_by_served_by
    assert truth["bot"] < truth["self_service"] < truth["human"]


def test_small_units_make_cells_under_the_privacy_threshold(company):
    employees = company.tables["employee_responses"].to_pandas()
    employees["period"] = employees.submitted_at.dt.to_period("M")
    cells = employees.groupby(["unit_id", "period"]).size()
    assert (cells < 5).sum() > 0
    assert (cells >= 5).mean() > 0.8


def test_observed_scores_match_the_expected_ones(company):
    customers = company.tables["customer_responses"].to_pandas()
    human = customers[customers.served_by == "human"].copy()
    human["period"] = human.submitted_at.dt.to_period("M").dt.start_time.dt.date
    panel = company.truth.panel.to_pandas()
    expected = human.merge(panel, on=["unit_id", "period"]).expected_nps.mean()
    # Reference: the model's expected NPS per unit-month (Truth.panel), weighted by
    # responses; the sampling sd of an NPS over ~13,000 answers is below 1 point.
    assert _nps(human.nps) == pytest.approx(expected, abs=3)


def test_true_effect_follows_from_the_parameters(company):
    # Reference: excx.synth docstring, theta = customer_slope * engagement_on_quality
    # / employee_slope = 0.12 * 0.6 / 0.14.
    assert company.truth.enps_to_nps == pytest.approx(0.12 * 0.6 / 0.14)
    assert company.truth.enps_to_revenue_per_customer == pytest.approx(
        0.12 * 0.6 / 0.14 * 0.2
    )

    panel = company.truth.panel.to_pandas().sort_values(["unit_id", "period"])
    panel["enps_before"] = panel.groupby("unit_id").expected_enps.shift()
    fit = smf.ols("expected_nps ~ enps_before + C(unit_id)", panel.dropna()).fit()
    # Within units, expected NPS at t on expected eNPS at t-1 recovers theta up to
    # the independent quality noise (30 units x 23 months).
    assert fit.params["enps_before"] == pytest.approx(0.514, abs=0.1)


def test_a_simple_check_recovers_the_direction_of_the_effect(company):
    panel = _unit_months(company)
    fit = smf.ols("nps ~ enps_before + C(region)", panel).fit()
    assert fit.params["enps_before"] > 0
    assert fit.pvalues["enps_before"] < 0.01
    # Sampling error in monthly eNPS attenuates the naive slope below the truth.
    assert fit.params["enps_before"] < company.truth.enps_to_nps


def test_invalid_parameters_are_refused():
    with pytest.raises(InputError, match="employee answer weight"):
        SynthParams(employee_slope=0.3)
    with pytest.raises(InputError, match="size 'huge'"):
        generate("huge")


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_write_files_for_the_generic_profile(company, tmp_path, file_format):
    paths = write_files(company, tmp_path, format=file_format)

    assert set(paths) == {
        "units",
        "employee-responses",
        "customer-responses",
        "outcomes",
    }
    read = pa_csv.read_csv if file_format == "csv" else pq.read_table
    customers = read(paths["customer-responses"])
    assert customers.num_rows == company.tables["customer_responses"].num_rows
    assert {"item_competence", "item_courtesy", "item_speed"} <= set(
        customers.column_names
    )
    employees = read(paths["employee-responses"])
    assert "item_pride" in employees.column_names
    answered = sum(
        len(employees.column(c)) - employees.column(c).null_count
        for c in employees.column_names
        if c.startswith("item_")
    )
    assert answered == company.tables["employee_items"].num_rows
    assert np.all(read(paths["units"]).column("unit_id").to_numpy(zero_copy_only=False))


def test_write_files_puts_in_replacement_scores(company, tmp_path):
    """The demo writes answers with a programme's effect through `scores`."""
    employees = company.tables["employee_responses"]
    changed = employees.select(["response_id", "enps"]).set_column(
        1, "enps", pa.array([10] * employees.num_rows, pa.int16())
    )

    paths = write_files(company, tmp_path, scores={"employee_responses": changed})

    written = pa_csv.read_csv(paths["employee-responses"])
    assert set(written.column("enps").to_pylist()) == {10}
    assert (
        written.column("response_id").to_pylist()
        == employees.column("response_id").to_pylist()
    )
    customers = pa_csv.read_csv(paths["customer-responses"])
    assert (
        customers.column("nps").to_pylist()
        == company.tables["customer_responses"].column("nps").to_pylist()
    )


def test_write_files_refuses_scores_with_missing_responses(company, tmp_path):
    partial = company.tables["employee_responses"].select(["response_id", "enps"])
    partial = partial.slice(0, 10)

    with pytest.raises(InputError, match="enps"):
        write_files(company, tmp_path, scores={"employee_responses": partial})


def test_write_files_adds_new_item_columns(company, tmp_path):
    employees = company.tables["employee_responses"].select(["response_id"])
    answers = [3 if i % 2 else None for i in range(employees.num_rows)]
    added = employees.append_column("item_journey_vision", pa.array(answers))

    paths = write_files(company, tmp_path, scores={"employee_responses": added})

    written = pa_csv.read_csv(paths["employee-responses"])
    assert written.column("item_journey_vision").to_pylist() == answers
