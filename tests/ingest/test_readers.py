"""Readers: CSV dialects, XLSX, Parquet, and files that are not tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from excx.errors import ImportValidationError, InputError
from excx.ingest import import_file
from tests.ingest.conftest import rejected, write

HEADER = "response_id,submitted_at,channel,served_by,unit_id,nps,comment"


def _stored(store, column="comment"):
    table = store.table("customer_responses").order_by("response_id")
    return store.execute(table)[column].tolist()


def test_comma_utf8_with_quoted_fields(units_duckdb, tmp_path):
    text = (
        f"{HEADER}\n"
        'r1,2026-01-31,store,human,B1,9,"Gentile, rapido e ""preciso"""\n'
        'r2,2026-01-31,store,human,B1,7,"due\nrighe"\n'
    )
    import_file(units_duckdb, "customer-responses", write(tmp_path, "c.csv", text))

    assert _stored(units_duckdb) == ['Gentile, rapido e "preciso"', "due\nrighe"]


def test_semicolon_cp1252_day_first(units_duckdb, tmp_path):
    text = (
        f"{HEADER.replace(',', ';')}\r\n"
        "r1;31/01/2026 14:05;store;human;B1;10;Perché è così € cortese\r\n"
        "r2;05/02/2026;store;human;B2;4;Attesa lunga\r\n"
    )
    path = write(tmp_path, "export.csv", text, "cp1252")

    import_file(units_duckdb, "customer-responses", path)

    assert _stored(units_duckdb)[0] == "Perché è così € cortese"
    # 31/01 can only be day-first, so 05/02/2026 is 5 February.
    assert _stored(units_duckdb, "submitted_at") == [
        dt.datetime(2026, 1, 31, 14, 5),
        dt.datetime(2026, 2, 5),
    ]


def test_month_first_detected_from_the_data(units_duckdb, tmp_path):
    text = (
        f"{HEADER}\nr1,01/31/2026,store,human,B1,10,\nr2,02/05/2026,store,human,B2,4,\n"
    )
    import_file(units_duckdb, "customer-responses", write(tmp_path, "us.csv", text))

    assert _stored(units_duckdb, "submitted_at")[1] == dt.datetime(2026, 2, 5)


def test_utf8_with_bom(units_duckdb, tmp_path):
    text = f"{HEADER}\nr1,2026-01-31,app,self_service,,8,Più veloce\n"
    path = write(tmp_path, "bom.csv", text, "utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    import_file(units_duckdb, "customer-responses", path)

    assert _stored(units_duckdb) == ["Più veloce"]


def test_xlsx(units_duckdb, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(",") + ["item_courtesy"])
    sheet.append(
        ["r1", dt.datetime(2026, 1, 31, 9, 30), "store", "human", "B1", 10, None, 5]
    )
    sheet.append(["r2", "31/01/2026", "web", "bot", None, 6.0, "ok", 3])
    path = tmp_path / "export.xlsx"
    book.save(path)

    report = import_file(units_duckdb, "customer-responses", path)

    assert (report.rows_written, report.items_written) == (2, 2)
    assert _stored(units_duckdb, "nps") == [10, 6]
    assert _stored(units_duckdb, "submitted_at") == [
        dt.datetime(2026, 1, 31, 9, 30),
        dt.datetime(2026, 1, 31),
    ]


def test_xlsx_error_names_the_sheet_row(units_duckdb, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(HEADER.split(","))
    book.active.append(["r1", "2026-01-31", "store", "human", "B1", 7.5, None])
    path = tmp_path / "bad.xlsx"
    book.save(path)

    rejected(units_duckdb, "customer-responses", path, "row 2", "column nps", "7.5")


def _parquet(folder, name: str, **columns) -> Path:
    path = folder / name
    pq.write_table(pa.table(columns), path)
    return path


def test_parquet(units_duckdb, tmp_path):
    path = _parquet(
        tmp_path,
        "responses.parquet",
        response_id=["r1", "r2"],
        submitted_at=pa.array([dt.datetime(2026, 1, 31, 8), dt.datetime(2026, 2, 1)]),
        channel=["store", "chatbot"],
        served_by=["human", "bot"],
        unit_id=["B1", None],
        nps=pa.array([9, 0], pa.int8()),
    )

    import_file(units_duckdb, "customer-responses", path)

    assert _stored(units_duckdb, "nps") == [9, 0]
    assert _stored(units_duckdb, "submitted_at")[0] == dt.datetime(2026, 1, 31, 8)


def test_parquet_numbers_and_times_are_read_in_their_own_type(units_store, tmp_path):
    columns = {
        "response_id": ["r1", "r2", "r3"],
        "submitted_at": pa.array([dt.date(2026, 1, 31), dt.date(2026, 2, 1), None]),
        "channel": ["store", "web", "app"],
        "served_by": ["human", "self_service", "bot"],
        "nps": pa.array([9.0, None, 0.0]),  # as pandas writes whole numbers with gaps
        "csat": pa.array([5, 4, 1], pa.uint8()),
        "item_courtesy": pa.array([4, 5, None], pa.int64()),
    }
    first_two = {name: values[:2] for name, values in columns.items()}

    rejected(
        units_store,
        "customer-responses",
        _parquet(tmp_path, "three.parquet", **columns),
        "row 4",
        "column submitted_at",
        "blank",
    )
    two = _parquet(tmp_path, "two.parquet", **first_two)
    import_file(units_store, "customer-responses", two)

    assert _stored(units_store, "nps")[0] == 9
    assert pd.isna(_stored(units_store, "nps")[1])
    assert _stored(units_store, "csat") == [5, 4]
    assert _stored(units_store, "submitted_at") == [
        dt.datetime(2026, 1, 31),
        dt.datetime(2026, 2, 1),
    ]
    assert units_store.count("customer_items") == 2


@pytest.mark.parametrize(
    ("nps", "rule"),
    [
        (pa.array([7.5]), "not a whole number"),
        (pa.array([11], pa.int16()), "out of range"),
        (pa.array([-1], pa.int64()), "out of range"),
        (pa.array([float("nan")], pa.float64()), "not a whole number"),
    ],
)
def test_parquet_numbers_break_the_rules_of_text(units_duckdb, tmp_path, nps, rule):
    path = _parquet(
        tmp_path,
        "bad.parquet",
        response_id=["r1"],
        submitted_at=pa.array([dt.datetime(2026, 1, 31, 8)]),
        channel=["store"],
        served_by=["human"],
        nps=nps,
    )

    rejected(units_duckdb, "customer-responses", path, "row 2", "column nps", rule)


def test_parquet_period_as_a_date_is_its_month(units_duckdb, tmp_path):
    path = _parquet(
        tmp_path,
        "outcomes.parquet",
        unit_id=["B1"],
        period=pa.array([dt.date(2026, 3, 17)]),
        revenue=pa.array([1234567.89]),
        customers=pa.array([120], pa.int32()),
    )

    import_file(units_duckdb, "outcomes", path)

    stored = units_duckdb.execute(units_duckdb.table("unit_outcomes"))
    assert stored["period"].tolist() == [pd.Timestamp(2026, 3, 1)]
    assert stored["revenue"].tolist() == [1234567.89]


def test_parquet_times_where_a_number_is_wanted_are_read_as_text(
    units_duckdb, tmp_path
):
    path = _parquet(
        tmp_path,
        "odd.parquet",
        response_id=["r1"],
        submitted_at=["31/01/2026"],
        channel=["store"],
        served_by=["human"],
        nps=pa.array([dt.date(2026, 1, 9)]),
    )

    rejected(
        units_duckdb,
        "customer-responses",
        path,
        "column nps",
        "2026-01-09",
        "not a whole number",
    )


def test_binary_file_named_csv(units_duckdb, tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)

    error = rejected(
        units_duckdb,
        "customer-responses",
        path,
        str(path),
        "not a text CSV file",
        "accepted: CSV text",
    )
    assert isinstance(error, InputError)


def test_empty_file(units_duckdb, tmp_path):
    path = write(tmp_path, "empty.csv", "")

    error = rejected(
        units_duckdb, "customer-responses", path, str(path), "the file is empty"
    )
    assert isinstance(error, ImportValidationError)


def test_header_only(units_duckdb, tmp_path):
    path = write(tmp_path, "header.csv", HEADER + "\n")

    rejected(
        units_duckdb,
        "customer-responses",
        path,
        str(path),
        "row 2",
        "header but no data rows",
    )


def test_row_with_too_many_fields(units_duckdb, tmp_path):
    path = write(
        tmp_path, "ragged.csv", f"{HEADER}\nr1,2026-01-31,store,human,B1,9,a,b\n"
    )

    rejected(
        units_duckdb, "customer-responses", path, str(path), "row 2", "malformed CSV"
    )


def test_missing_file(units_duckdb, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        import_file(units_duckdb, "units", tmp_path / "nope.csv")


def test_cp1252_byte_after_a_utf8_looking_sample(duckdb_store, tmp_path):
    # The encoding guess reads the first 64 KiB; a later cp1252 byte must still
    # be decoded as cp1252, not rejected or garbled.
    rows = [
        f"r{i},2026-01-31,web,bot,commento {i:05d} " + "x" * 40 for i in range(2000)
    ]
    text = "response_id,submitted_at,channel,served_by,comment\n" + "\n".join(rows)
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        f"{text}\n".encode() + "z1,2026-01-31,web,bot,Perché\n".encode("cp1252")
    )
    assert path.stat().st_size > 64 * 1024

    report = import_file(duckdb_store, "customer-responses", path)

    assert report.rows_written == 2001
    assert _stored(duckdb_store)[-1] == "Perché"
