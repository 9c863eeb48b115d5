"""Text to typed values, as DuckDB SQL expressions over the staged text.

Conventions are detected from the data, never from the machine's locale:

- **day or month first** (``31/01/2026`` or ``01/31/2026``): a first part above 12
  votes for day-first, a second part above 12 for month-first, over every date
  column of the file; with no vote either way day-first is assumed. Values that
  contradict the winning order fail as "not a real date".
- **decimal mark** (``1.234.567,89`` or ``1,234,567.89``): a value whose last
  separator can only be a decimal mark votes for it (``12,5``, ``1.234,50``
  vote comma; ``12.5`` votes point); ``1.234`` alone is ambiguous. With no vote
  a semicolon-delimited file is read with decimal comma, others with point.

ISO dates and timestamps (``2026-01-31``, ``2026-01-31T10:22:05``) are always
accepted. Expressions return NULL when the text cannot be parsed; validation
turns that NULL into a problem naming the row.

A value that a file already holds as a number, a date or a time (Parquet) is
converted from its own type (:func:`from_native`), under the same rules: a
whole number must be whole, a date must be a date.
"""

from __future__ import annotations

import duckdb

__all__ = [
    "is_native",
    "holds",
    "from_native",
    "quote",
    "literal",
    "integer",
    "count",
    "decimal",
    "temporal",
    "detect_day_first",
    "detect_decimal_comma",
]

_DMY = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})"
_COMMA_DECIMAL = r"[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?"
_POINT_DECIMAL = r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?"


_INTEGERS = frozenset(
    f"{sign}{size}INT"
    for sign in ("", "U")
    for size in ("TINY", "SMALL", "", "BIG", "HUGE")
) | {"INTEGER", "UINTEGER"}
_FRACTIONS = frozenset({"FLOAT", "DOUBLE"})
_TIMES = frozenset({"DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"})


def is_native(duckdb_type: str) -> bool:
    """True for a column type parsed from itself: numbers, dates, zone-less times."""
    return duckdb_type in _INTEGERS | _FRACTIONS | _TIMES or duckdb_type.startswith(
        "DECIMAL"
    )


def holds(duckdb_type: str, kind: str | None) -> bool:
    """True when a column of `duckdb_type` can give values of `kind` (``whole``,
    ``number`` or ``time``; None for text, always parsed from the text)."""
    if kind is None:
        return False
    return (duckdb_type in _TIMES) == (kind == "time")


def from_native(value: str, duckdb_type: str, kind: str) -> str:
    """`value`, of a `duckdb_type` that :func:`holds` `kind`, as `kind`: NULL
    for a fraction where a whole number is wanted."""
    if kind == "time":
        return f"CAST({value} AS TIMESTAMP)"
    if duckdb_type in _INTEGERS:
        return f"TRY_CAST({value} AS {'BIGINT' if kind == 'whole' else 'DOUBLE'})"
    number = f"CAST({value} AS DOUBLE)"
    if kind == "number":
        return number
    return f"CASE WHEN {number} = trunc({number}) THEN TRY_CAST({number} AS BIGINT) END"


def quote(name: str) -> str:
    """A SQL identifier for any column name."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def integer(text: str) -> str:
    """Whole numbers: ``7`` and ``7.0`` parse, ``7.5``, ``N/A``, ``abc`` do not."""
    return (
        f"CASE WHEN regexp_full_match({text}, '[+-]?\\d{{1,9}}') "
        f"THEN CAST({text} AS BIGINT) "
        f"WHEN regexp_full_match({text}, '[+-]?\\d{{1,9}}\\.0+') "
        f"THEN CAST(split_part({text}, '.', 1) AS BIGINT) END"
    )


def count(text: str, *, decimal_comma: bool) -> str:
    """Whole numbers that may carry thousands separators (``1.234`` or ``1,234``)."""
    thousands = "." if decimal_comma else ","
    pattern = rf"[+-]?(\d{{1,3}}(\{thousands}\d{{3}})+|\d+)"
    return (
        f"CASE WHEN regexp_full_match({text}, '{pattern}') "
        f"THEN TRY_CAST(replace({text}, '{thousands}', '') AS BIGINT) END"
    )


def decimal(text: str, *, decimal_comma: bool) -> str:
    """Numbers with the file's decimal mark and optional thousands separators."""
    if decimal_comma:
        cleaned = f"replace(replace({text}, '.', ''), ',', '.')"
        pattern = _COMMA_DECIMAL
    else:
        cleaned = f"replace({text}, ',', '')"
        pattern = _POINT_DECIMAL
    return (
        f"CASE WHEN regexp_full_match({text}, '{pattern}') "
        f"THEN TRY_CAST({cleaned} AS DOUBLE) END"
    )


def temporal(text: str, *, day_first: bool, month_only: bool = False) -> str:
    """A TIMESTAMP from ISO or day/month-first text; NULL for 31/02 or month 13.

    With `month_only`, ``2026-01`` and ``01/2026`` are accepted as well and the
    result is the first day of the month.
    """
    first, second = ("%d", "%m") if day_first else ("%m", "%d")
    formats = ", ".join(
        f"'{first}/{second}/%Y{suffix}'" for suffix in ("", " %H:%M", " %H:%M:%S")
    )
    normalised = f"regexp_replace({text}, '{_DMY}', '\\1/\\2/\\3')"
    parsed = (
        f"CASE WHEN substr({text}, 5, 1) = '-' THEN TRY_CAST({text} AS TIMESTAMP) "
        f"WHEN regexp_matches({text}, '{_DMY}') "
        f"THEN try_strptime({normalised}, [{formats}]) END"
    )
    if not month_only:
        return parsed
    return (
        f"date_trunc('month', CASE "
        f"WHEN regexp_full_match({text}, '\\d{{4}}-\\d{{1,2}}') "
        f"THEN TRY_CAST({text} || '-01' AS TIMESTAMP) "
        f"WHEN regexp_full_match({text}, '\\d{{1,2}}[/.\\-]\\d{{4}}') "
        f"THEN try_strptime('01/' || regexp_replace({text}, '[.\\-]', '/'), "
        f"'%d/%m/%Y') ELSE {parsed} END)"
    )


def detect_day_first(
    con: duckdb.DuckDBPyConnection, relation: str, texts: list[str]
) -> bool:
    """Vote over the date columns' text: True for day-first (the default)."""
    if not texts:
        return True
    votes: list[int] = []
    for text in texts:
        # ISO values (``2026-…``) cannot vote; filtering them first skips the regex.
        votes += con.execute(
            f"SELECT count(*) FILTER (TRY_CAST(regexp_extract(v, '{_DMY}', 1) "
            f"AS INTEGER) > 12), count(*) FILTER (TRY_CAST(regexp_extract(v, "
            f"'{_DMY}', 2) AS INTEGER) > 12) FROM (SELECT {text} AS v FROM "
            f"{relation}) WHERE substr(v, 5, 1) <> '-'"
        ).fetchone()
    day, month = sum(votes[0::2]), sum(votes[1::2])
    return day >= month


def detect_decimal_comma(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    texts: list[str],
    *,
    delimiter: str | None,
) -> bool:
    """Vote over the numeric columns' text: True when the decimal mark is a comma."""
    if not texts:
        return delimiter == ";"
    comma_only = (
        r"^[+-]?\d+(\.\d{3})*,(\d{1,2}|\d{4,})$|^[+-]?\d+\.\d{3}(\.\d{3})*,\d+$"
    )
    point_only = r"^[+-]?\d+(,\d{3})*\.(\d{1,2}|\d{4,})$|^[+-]?\d+,\d{3}(,\d{3})*\.\d+$"
    selects = ", ".join(
        f"count(*) FILTER (regexp_matches({t}, '{comma_only}')), "
        f"count(*) FILTER (regexp_matches({t}, '{point_only}'))"
        for t in texts
    )
    votes = con.execute(f"SELECT {selects} FROM {relation}").fetchone()
    comma, point = sum(votes[0::2]), sum(votes[1::2])
    if comma == point:
        return delimiter == ";"
    return comma > point
