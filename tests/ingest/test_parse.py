"""Parsing expressions and convention detection, run in an in-memory DuckDB."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from excx.ingest import parse


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def _one(con, expression: str, text: str | None):
    return con.execute(
        f"SELECT {expression} FROM (SELECT ?::VARCHAR AS v)", [text]
    ).fetchone()[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 7),
        ("7.0", 7),
        ("-1", -1),
        ("+3", 3),
        ("7.5", None),
        ("N/A", None),
        ("1e2", None),
        ("0x10", None),
        ("1_000", None),
        ("", None),
        (None, None),
    ],
)
def test_integer(con, text, expected):
    assert _one(con, parse.integer("v"), text) == expected


@pytest.mark.parametrize(
    ("text", "comma", "expected"),
    [
        ("1.234.567,89", True, 1234567.89),
        ("987,5", True, 987.5),
        ("12", True, 12.0),
        ("1,234,567.89", False, 1234567.89),
        ("987.5", False, 987.5),
        ("1.234,5", False, None),
        ("12,5", False, None),
        ("abc", True, None),
    ],
)
def test_decimal(con, text, comma, expected):
    assert _one(con, parse.decimal("v", decimal_comma=comma), text) == expected


@pytest.mark.parametrize(
    ("text", "day_first", "expected"),
    [
        ("2026-01-31", True, dt.datetime(2026, 1, 31)),
        ("2026-01-31T10:22:05", True, dt.datetime(2026, 1, 31, 10, 22, 5)),
        ("31/01/2026", True, dt.datetime(2026, 1, 31)),
        ("31.01.2026 08:15", True, dt.datetime(2026, 1, 31, 8, 15)),
        ("01/31/2026", False, dt.datetime(2026, 1, 31)),
        ("5/2/2026", True, dt.datetime(2026, 2, 5)),
        ("31/02/2026", True, None),
        ("2026-13-01", True, None),
        ("2026-02-30", True, None),
        ("01/31/2026", True, None),
        ("ieri", True, None),
    ],
)
def test_temporal(con, text, day_first, expected):
    assert _one(con, parse.temporal("v", day_first=day_first), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03", dt.datetime(2026, 3, 1)),
        ("03/2026", dt.datetime(2026, 3, 1)),
        ("2026-03-17", dt.datetime(2026, 3, 1)),
        ("2026-13", None),
    ],
)
def test_month(con, text, expected):
    assert (
        _one(con, parse.temporal("v", day_first=True, month_only=True), text)
        == expected
    )


def _column(con, *values: str) -> str:
    con.execute(
        "CREATE OR REPLACE TABLE t AS SELECT unnest(?::VARCHAR[]) AS v", [list(values)]
    )
    return "t"


def test_day_first_votes(con):
    assert parse.detect_day_first(con, _column(con, "05/02/2026", "31/01/2026"), ["v"])
    assert not parse.detect_day_first(
        con, _column(con, "05/02/2026", "01/31/2026"), ["v"]
    )
    # Nothing decides: day-first is assumed.
    assert parse.detect_day_first(con, _column(con, "05/02/2026", "2026-01-31"), ["v"])


@pytest.mark.parametrize(
    ("values", "delimiter", "expected"),
    [
        (["1.234.567,89", "1.234"], ",", True),
        (["1,234.5", "1.234"], ";", False),
        (["1.234", "12"], ";", True),
        (["1.234", "12"], ",", False),
    ],
)
def test_decimal_mark_votes(con, values, delimiter, expected):
    relation = _column(con, *values)

    assert (
        parse.detect_decimal_comma(con, relation, ["v"], delimiter=delimiter)
        is expected
    )
