"""Importing interaction logs: valid logs land, bad ones write nothing."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from excx.channels import import_interactions
from excx.errors import ImportValidationError, InputError


@pytest.fixture
def served(store):
    store.write(
        {
            "units": pa.table(
                {
                    "unit_id": ["b1", "b2"],
                    "name": ["B1", "B2"],
                    "kind": ["branch", "branch"],
                }
            ),
            "customer_responses": pa.table(
                {
                    "response_id": ["r1"],
                    "submitted_at": pa.array(
                        [dt.datetime(2025, 1, 2, 11)], pa.timestamp("us")
                    ),
                    "channel": ["store"],
                    "served_by": ["human"],
                    "unit_id": ["b1"],
                    "nps": pa.array([9], pa.int16()),
                }
            ),
        }
    )
    return store


GOOD = (
    "customer_ref,timestamp,channel,served_by,unit_id,response_id\n"
    "c1,2025-01-02 10:00,chatbot,bot,,\n"
    "c1,2025-01-02 10:05,store,human,b1,r1\n"
    "c2,2025-01-03 09:00:30,web,self_service,,\n"
)


def test_valid_csv_is_imported(served, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(GOOD)
    assert import_interactions(served, path) == 3
    stored = served.to_pyarrow(served.table("interactions")).to_pandas()
    assert sorted(stored["customer_ref"]) == ["c1", "c1", "c2"]
    assert stored.loc[stored["unit_id"] == "b1", "response_id"].tolist() == ["r1"]
    assert str(stored["occurred_at"].max()) == "2025-01-03 09:00:30"


@pytest.mark.parametrize(
    ("rows", "row", "rule"),
    [
        ("c3,2025-01-02 10:00,store,human,zz,\n", 5, "unknown unit"),
        ("c1,2025-01-02 09:00,store,human,b2,\n", 5, "out of order"),
        ("c1,2025-01-02 10:05,store,human,b1,\n", 5, "duplicate event"),
        ("c3,02/01/2025,store,human,b1,\n", 5, "not a date-time"),
        ("c3,2025-01-02 10:00,fax,human,b1,\n", 5, "channel must be one of"),
        ("c3,2025-01-02 10:00,store,robot,b1,\n", 5, "served_by must be one of"),
        (",2025-01-02 10:00,store,human,b1,\n", 5, "customer_ref is required"),
        ("c3,2025-01-02 10:00,store,human,b1,r9\n", 5, "unknown response_id"),
    ],
)
def test_bad_rows_are_listed_and_nothing_written(served, tmp_path, rows, row, rule):
    path = tmp_path / "log.csv"
    path.write_text(GOOD + rows)
    with pytest.raises(ImportValidationError) as caught:
        import_interactions(served, path)
    problems = caught.value.problems
    assert [p["row"] for p in problems] == [row]
    assert rule in problems[0]["rule"]
    assert "nothing was imported" in str(caught.value)
    assert served.count("interactions") == 0


def test_out_of_order_is_per_customer_and_in_file_order(served):
    # c1's events out of order; c2's later event listed before c1's is fine.
    log = pa.table(
        {
            "customer_ref": ["c1", "c2", "c1"],
            "timestamp": ["2025-01-02 10:00", "2025-01-05 10:00", "2025-01-01 10:00"],
            "channel": ["store", "store", "store"],
            "served_by": ["human"] * 3,
            "unit_id": ["b1", "b1", "b2"],
        }
    )
    with pytest.raises(ImportValidationError) as caught:
        import_interactions(served, log)
    assert caught.value.counts == {
        "out of order: earlier than the previous event of this customer_ref": 1
    }
    assert caught.value.problems[0]["row"] == 4


def test_reimport_is_refused(served, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(GOOD)
    import_interactions(served, path)
    with pytest.raises(ImportValidationError, match="already imported"):
        import_interactions(served, path)
    assert served.count("interactions") == 3


def test_missing_column_is_named(served, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("customer_ref,channel,served_by,unit_id\nc1,web,bot,\n")
    with pytest.raises(InputError, match="missing column.s. timestamp"):
        import_interactions(served, path)


def test_parquet_with_occurred_at_column(served, tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "log.parquet"
    pq.write_table(
        pa.table(
            {
                "Customer_Ref": ["c9", "c9"],
                "occurred_at": pa.array(
                    [dt.datetime(2025, 2, 1, 9), dt.datetime(2025, 2, 1, 9, 30)],
                    pa.timestamp("us"),
                ),
                "channel": ["Web", "store"],
                "served_by": ["self_service", "human"],
                "unit_id": [None, "b2"],
            }
        ),
        path,
    )
    assert import_interactions(served, path) == 2
    stored = served.to_pyarrow(served.table("interactions")).to_pandas()
    assert stored.sort_values("occurred_at")["channel"].tolist() == ["web", "store"]
