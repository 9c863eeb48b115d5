"""Each validation rule: the message names file, row, column, value and rule."""

from __future__ import annotations

import pytest

from excx.errors import ImportValidationError
from excx.ingest import import_file
from tests.ingest.conftest import rejected, write

HEADER = "response_id,submitted_at,channel,served_by,unit_id,nps,csat,ces"
GOOD = "r1,2026-01-31,store,human,B1,9,5,2"


def _file(tmp_path, *rows: str, header: str = HEADER, good: str = GOOD):
    return write(tmp_path, "customers.csv", "\n".join([header, good, *rows]) + "\n")


@pytest.mark.parametrize(
    ("row", "column", "value", "rule"),
    [
        ("r2,2026-01-31,store,human,B1,11,5,2", "nps", "'11'", "out of range"),
        ("r2,2026-01-31,store,human,B1,-1,5,2", "nps", "'-1'", "out of range"),
        ("r2,2026-01-31,store,human,B1,7.5,5,2", "nps", "'7.5'", "not a whole number"),
        ("r2,2026-01-31,store,human,B1,N/A,5,2", "nps", "'N/A'", "not a whole number"),
        ("r2,2026-01-31,store,human,B1,9,abc,2", "csat", "'abc'", "not a whole number"),
        ("r2,2026-01-31,store,human,B1,9,5,8", "ces", "'8'", "from 1 to 7"),
        ("r2,2026-01-31,store,,B1,9,5,2", "served_by", None, "blank; a value is"),
        ("r2,2026-01-31,shop,human,B1,9,5,2", "channel", "'shop'", "accepted: store,"),
        (
            "r2,31/02/2026,store,human,B1,9,5,2",
            "submitted_at",
            "'31/02/2026'",
            "not a real date",
        ),
        (
            "r2,2026-13-01,store,human,B1,9,5,2",
            "submitted_at",
            "'2026-13-01'",
            "not a real date",
        ),
        (
            "r1,2026-01-31,store,human,B1,9,5,2",
            "response_id",
            "'r1'",
            "appears more than once in this file",
        ),
    ],
)
def test_row_rules(units_duckdb, tmp_path, row, column, value, rule):
    path = _file(tmp_path, row)

    error = rejected(
        units_duckdb,
        "customer-responses",
        path,
        str(path),
        "row 3",
        f"column {column}",
        rule,
        *([value] if value else []),
    )

    assert isinstance(error, ImportValidationError)
    assert error.problems[0]["row"] == 3


def test_blank_required_value_on_both_backends(units_store, tmp_path):
    path = _file(tmp_path, "r2,,store,human,B1,9,5,2")

    rejected(
        units_store,
        "customer-responses",
        path,
        "row 3",
        "column submitted_at",
        "blank; a value is required",
    )


def test_item_out_of_range(units_duckdb, tmp_path):
    path = _file(
        tmp_path,
        "r2,2026-01-31,store,human,B1,9,5,2,6",
        header=HEADER + ",item_courtesy",
        good=GOOD + ",4",
    )

    rejected(
        units_duckdb,
        "customer-responses",
        path,
        "row 3",
        "column item_courtesy",
        "'6'",
        "from 1 to 5",
    )


def test_unknown_and_missing_columns(units_duckdb, tmp_path):
    header = "response_id,submitted_at,canale,served_by,nps"
    path = write(tmp_path, "c.csv", f"{header}\nr1,2026-01-31,store,human,9\n")

    error = rejected(
        units_duckdb,
        "customer-responses",
        path,
        str(path),
        "row 1",
        "column canale",
        "unknown column",
        "column channel",
        "required column missing",
        "accepted: response_id",
    )
    assert {p["column"] for p in error.problems} == {"canale", "channel"}


def test_unknown_unit_kind(duckdb_store, tmp_path):
    path = write(
        tmp_path, "units.csv", "unit_id,name,kind\nC,Co,company\nS1,Shop,kiosk\n"
    )

    rejected(
        duckdb_store,
        "units",
        path,
        "row 3",
        "column kind",
        "'kiosk'",
        "accepted: company, region, branch",
    )


def test_at_most_twenty_problems_with_counts_over_the_file(units_duckdb, tmp_path):
    rows = [f"r{i},2026-01-31,store,human,B1,{11 + i},5,2" for i in range(2, 40)]
    path = _file(tmp_path, *rows)

    error = rejected(units_duckdb, "customer-responses", path, "nps: out of range: 38")

    assert len(error.problems) == 20
    assert error.counts == {"nps: out of range": 38}
    assert [p["row"] for p in error.problems] == list(range(3, 23))


def test_day_first_file_rejects_month_first_value(units_duckdb, tmp_path):
    path = _file(
        tmp_path,
        "r2,31/01/2026,store,human,B1,9,5,2",
        "r3,01/31/2026,store,human,B1,9,5,2",
    )

    rejected(
        units_duckdb, "customer-responses", path, "row 4", "'01/31/2026'", "DD/MM/YYYY"
    )


def test_valid_file_passes(units_duckdb, tmp_path):
    report = import_file(units_duckdb, "customer-responses", _file(tmp_path))

    assert report.rows_written == 1
