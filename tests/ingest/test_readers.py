"""Readers: CSV dialects, XLSX, Parquet, and files that are not tables."""

from __future__ import annotations

import datetime as dt

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


def test_parquet(units_duckdb, tmp_path):
    table = pa.table(
        {
            "response_id": ["r1", "r2"],
            "submitted_at": pa.array(
                [dt.datetime(2026, 1, 31, 8), dt.datetime(2026, 2, 1)]
            ),
            "channel": ["store", "chatbot"],
            "served_by": ["human", "bot"],
            "unit_id": ["B1", None],
            "nps": pa.array([9, 0], pa.int8()),
        }
    )
    path = tmp_path / "responses.parquet"
    pq.write_table(table, path)

    import_file(units_duckdb, "customer-responses", path)

    assert _stored(units_duckdb, "nps") == [9, 0]
    assert _stored(units_duckdb, "submitted_at")[0] == dt.datetime(2026, 1, 31, 8)


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
