"""``GET /api/v1/metrics/{kpi}``: the same rows as ``excx.metrics.compute``, the
manager's subtree, and the differencing attack on employee KPIs refused."""

from __future__ import annotations

import json

import pytest

import excx.metrics
from excx.api.deps import subtree
from excx.api.routes.metrics import period_starts


def _library_rows(store, kpi, **options) -> list[dict]:
    """What the CLI prints with --format json, sorted as the API sorts."""
    frame = excx.metrics.compute(store, kpi, **options)
    keys = list(frame.columns[: -len(excx.metrics.OUTPUT_COLUMNS)])
    if keys:
        frame = frame.sort_values(keys, na_position="last", ignore_index=True)
    return json.loads(frame.to_json(orient="records", double_precision=15))


@pytest.mark.parametrize(
    ("kpi", "query", "options"),
    [
        ("nps", "by=region,period", {"by": ("region", "period")}),
        (
            "csat",
            "by=channel,served_by&ci=wald",
            {"by": ("channel", "served_by"), "ci": "wald"},
        ),
        ("ces", "by=unit_id&level=0.9", {"by": ("unit_id",), "level": 0.9}),
        ("enps", "by=unit_id,period", {"by": ("unit_id", "period")}),
        ("enps", "by=unit_id&rollup=true", {"by": ("unit_id",), "rollup": True}),
        (
            "engagement",
            "by=region&period=quarter",
            {"by": ("region",), "period": "quarter"},
        ),
    ],
)
def test_rows_equal_the_library_call(bank, kpi, query, options):
    answer = bank.client.get(
        f"/api/v1/metrics/{kpi}?{query}", headers=bank.as_role("analyst")
    )
    assert answer.status_code == 200, answer.text
    expected = _library_rows(bank.store, kpi, **options)
    assert answer.json()["rows"] == expected
    assert len(expected) > 1
    if kpi == "enps" and "period" in query:
        # the small branches make some unit-month cells suppressed, shown as such
        assert any(row["suppressed"] and row["value"] is None for row in expected)


def test_engagement_carries_cronbach_alpha(bank):
    body = bank.client.get(
        "/api/v1/metrics/engagement", headers=bank.as_role("viewer")
    ).json()
    frame = excx.metrics.compute(bank.store, "engagement")
    assert body["cronbach_alpha"] == pytest.approx(frame.attrs["cronbach_alpha"])


def test_filters_and_dates_go_to_where(bank):
    query = "by=channel,period&channel=store,web&from=2025-02-10&to=2025-04-30"
    answer = bank.client.get(
        f"/api/v1/metrics/nps?{query}", headers=bank.as_role("admin")
    )
    periods = ["2025-02-01", "2025-03-01", "2025-04-01"]
    expected = _library_rows(
        bank.store,
        "nps",
        by=("channel", "period"),
        where={"channel": ["store", "web"], "period": periods},
    )
    assert answer.json()["rows"] == expected
    assert {(r["channel"], r["period"]) for r in expected} == {
        (c, p) for c in ("store", "web") for p in periods
    }


def test_period_starts_align_to_the_grain():
    assert period_starts(
        __import__("datetime").date(2025, 5, 20),
        __import__("datetime").date(2025, 12, 1),
        grain="quarter",
    ) == ["2025-04-01", "2025-07-01", "2025-10-01"]


def test_bad_arguments_are_422(bank):
    headers = bank.as_role("analyst")
    for query in (
        "/api/v1/metrics/happiness",
        "/api/v1/metrics/nps?by=shoe_size",
        "/api/v1/metrics/nps?level=2",
        "/api/v1/metrics/nps?ci=magic",
        "/api/v1/metrics/nps?from=2025-13-01",
    ):
        answer = bank.client.get(query, headers=headers)
        assert answer.status_code == 422, query
        assert answer.json()["detail"]


def test_sql_in_a_filter_is_just_a_value(bank):
    before = bank.store.count("customer_responses")
    answer = bank.client.get(
        "/api/v1/metrics/nps",
        params={"by": "region", "region": "North' OR '1'='1"},
        headers=bank.as_role("analyst"),
    )
    assert answer.status_code == 200
    assert answer.json()["rows"] == []
    assert bank.store.count("customer_responses") == before


def _small_cell(store):
    """A unit-month eNPS cell below the threshold, with its region and siblings."""
    cells = excx.metrics.compute(store, "enps", by=("unit_id", "period"))
    small = cells[(cells["n"] > 0) & (cells["n"] < 5)].iloc[0]
    units = store.to_pyarrow(store.table("units")).to_pandas()
    region = units.loc[units["unit_id"] == small["unit_id"], "region"].item()
    siblings = units.loc[
        (units["region"] == region) & (units["unit_id"] != small["unit_id"]), "unit_id"
    ]
    return small, region, sorted(siblings)


def test_differencing_attack_is_refused(bank):
    small, region, others = _small_cell(bank.store)
    period = small["period"]

    # The hole: with a filter outside `by` applied before the gate, the two
    # populations (region, and region without the unit) both pass the gate but
    # differ by exactly the small cell.
    answers = bank.store.table("employee_responses")
    month = answers.submitted_at.truncate("M").cast("date")
    in_cell = answers.filter(answers.enps.notnull(), month == period)
    region_units = others + [small["unit_id"]]
    n_whole = in_cell.filter(in_cell.unit_id.isin(region_units)).count()
    n_rest = in_cell.filter(in_cell.unit_id.isin(others)).count()
    n_whole, n_rest = int(bank.store.execute(n_whole)), int(bank.store.execute(n_rest))
    assert n_rest >= 5 and n_whole - n_rest == small["n"] < 5

    # Through the API the first request works and the second is refused.
    headers = bank.as_role("analyst")
    base = (
        f"/api/v1/metrics/enps?by=region,period&region={region}"
        f"&from={period}&to={period}"
    )
    first = bank.client.get(base, headers=headers)
    assert first.status_code == 200
    assert first.json()["rows"][0]["n"] == n_whole
    second = bank.client.get(base + "&unit=" + ",".join(others), headers=headers)
    assert second.status_code == 403
    assert "privacy gate" in second.json()["detail"]
    assert "rows" not in second.json()


@pytest.mark.parametrize(
    "query",
    [
        "by=region&from=2025-03-01&to=2025-03-31",  # a date window outside by
        "by=unit_id&role=manager",  # an answer filter outside by
        "unit=R1-B001,R1-B002",  # units without unit_id in by
    ],
)
def test_employee_filters_outside_by_are_refused(bank, query):
    for kpi in ("enps", "engagement"):
        answer = bank.client.get(
            f"/api/v1/metrics/{kpi}?{query}", headers=bank.as_role("admin")
        )
        assert answer.status_code == 403, (kpi, query)


def test_customer_filters_outside_by_are_allowed(bank):
    answer = bank.client.get(
        "/api/v1/metrics/nps?by=region&unit=R1-B001,R1-B002",
        headers=bank.as_role("analyst"),
    )
    assert answer.status_code == 200
    assert answer.json()["rows"] == _library_rows(
        bank.store, "nps", by=("region",), where={"unit_id": ["R1-B001", "R1-B002"]}
    )


def test_manager_sees_their_subtree_only(bank):
    headers = bank.as_role("manager")
    mine = subtree(bank.store, "R1")

    rolled = bank.client.get(
        "/api/v1/metrics/enps?by=unit_id&rollup=true", headers=headers
    )
    assert rolled.status_code == 200
    assert {r["unit_id"] for r in rolled.json()["rows"]} <= set(mine)
    assert rolled.json()["rows"] == _library_rows(
        bank.store, "enps", by=("unit_id",), rollup=True, where={"unit_id": mine}
    )

    total = bank.client.get("/api/v1/metrics/nps", headers=headers).json()["rows"]
    everyone = _library_rows(bank.store, "nps")
    assert total == _library_rows(bank.store, "nps", where={"unit_id": mine})
    assert total[0]["n"] < everyone[0]["n"]


def test_manager_refused_outside_subtree_and_ungrouped_enps(bank):
    headers = bank.as_role("manager")
    outside = bank.client.get(
        "/api/v1/metrics/nps?by=unit_id&unit=R1-B001,R2-B001", headers=headers
    )
    assert outside.status_code == 403
    assert "R2-B001" in outside.json()["detail"]
    # a subtree total of eNPS would be a pre-gate filter: by=unit_id is required
    ungrouped = bank.client.get("/api/v1/metrics/enps?by=region", headers=headers)
    assert ungrouped.status_code == 403
    assert "by=unit_id" in ungrouped.json()["detail"]
