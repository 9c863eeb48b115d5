"""Validation in the engine: parse the staged text, count failures per rule.

Every rule is a SQL boolean over the typed staging table; one scan counts the
failing rows of every rule, and only when some fail are the first rows of each
fetched to name them. Rules: required values, whole numbers, ranges
(``schema.SCORE_RANGES``), allowed values (``schema.CHANNELS``, ``SERVED_BY``,
``UNIT_KINDS``), real dates, keys unique in the file and new to the store, known
units, existing parents and, for units, no cycle in the hierarchy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import ibis.expr.datatypes as dt
from ibis.backends.sql.datatypes import DuckDBType

from excx import schema
from excx.errors import ImportValidationError
from excx.ingest import parse
from excx.ingest.parse import literal, quote
from excx.ingest.targets import Columns, Target

__all__ = ["Check", "type_columns", "row_checks", "run_checks", "cycle_problems"]

MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Check:
    """One rule: rows where `failing` is true break it.

    `count`, when given, is an aggregate counting the failing rows faster than
    filtering on `failing` (which is then evaluated only to list examples).
    """

    column: str
    rule: str
    failing: str
    value: str
    count: str | None = None


def _given(column: str) -> str:
    return quote(f"{column}__given")


def type_columns(
    con: duckdb.DuckDBPyConnection,
    staged: str,
    typed: str,
    target: Target,
    columns: Columns,
    *,
    delimiter: str | None,
) -> dict[str, str]:
    """Materialise `typed`: every canonical column parsed, with the row number.

    A parsed column also gets ``<column>__given`` (its text was not blank), so
    that a blank and an unparseable value can be told apart without keeping the
    text. A column the file holds as a number or a time (``columns.natives``) is
    converted from that type where it can hold what the canonical column wants.
    Returns the rule text of each parsed column, naming the accepted form.
    """
    spec = target.spec
    natives = {
        column: found
        for column, found in columns.natives.items()
        if parse.holds(found[1], _kind(spec.columns.get(column, dt.Int16())))
    }
    texts = {c: t for c, t in columns.texts.items() if c not in natives}
    dates = [t for c, t in texts.items() if spec.columns.get(c, 0) in _TIMES]
    numbers = [t for c, t in texts.items() if spec.columns.get(c) in _NUMBERS]
    day_first = parse.detect_day_first(con, staged, dates)
    comma = parse.detect_decimal_comma(con, staged, numbers, delimiter=delimiter)

    inner, values, rules = ["_row"], ["_row"], {}
    for position, (column, text) in enumerate(columns.texts.items()):
        dtype = spec.columns.get(column, dt.Int16())
        alias = f"t{position}"
        parsed, rules[column] = _parse(column, alias, dtype, day_first, comma)
        if column in natives:
            text, duckdb_type = natives[column]
            parsed = _from_native(column, alias, duckdb_type, dtype)
        inner.append(f"{text} AS {alias}")
        values.append(f"{parsed} AS {quote(column)}")
        if rules[column]:
            values.append(f"{alias} IS NOT NULL AS {_given(column)}")
    for column in spec.columns:
        if column not in columns.texts:
            sql_type = DuckDBType.to_string(spec.columns[column])
            values.append(f"CAST(NULL AS {sql_type}) AS {quote(column)}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {typed} AS SELECT {', '.join(values)} "
        f"FROM (SELECT {', '.join(inner)} FROM {staged})"
    )
    return rules


_TIMES = (dt.Timestamp(), dt.Date())
_NUMBERS = (dt.Float64(), dt.Int64())


def _kind(dtype: dt.DataType) -> str | None:
    """What a parsed column holds, in :func:`parse.holds`'s terms."""
    if dtype in _TIMES:
        return "time"
    if dtype == dt.Float64():
        return "number"
    return "whole" if dtype in (dt.Int16(), dt.Int64()) else None


def _from_native(column, value, duckdb_type, dtype) -> str:
    parsed = parse.from_native(value, duckdb_type, _kind(dtype))
    if column == "period":
        parsed = f"date_trunc('month', {parsed})"
    return f"CAST({parsed} AS DATE)" if dtype == dt.Date() else parsed


def _parse(column, text, dtype, day_first, comma) -> tuple[str, str]:
    if dtype == dt.Int16():
        low, high = schema.SCORE_RANGES.get(column, schema.SCORE_RANGES["item"])
        return parse.integer(text), (
            f"not a whole number; accepted: whole numbers from {low} to {high}"
        )
    if dtype == dt.Int64():
        return (
            parse.count(text, decimal_comma=comma),
            "not a whole number; accepted: e.g. 1234 or "
            + ("1.234" if comma else "1,234"),
        )
    if dtype == dt.Float64():
        example = "1.234.567,89" if comma else "1,234,567.89"
        return (
            parse.decimal(text, decimal_comma=comma),
            f"not a number; accepted: e.g. 1234 or {example} "
            f"(this file uses decimal {'comma' if comma else 'point'})",
        )
    if dtype in _TIMES:
        order = "DD/MM/YYYY" if day_first else "MM/DD/YYYY"
        value = parse.temporal(text, day_first=day_first, month_only=column == "period")
        if dtype == dt.Date():
            value = f"CAST({value} AS DATE)"
        months = ", YYYY-MM, MM/YYYY" if column == "period" else ""
        return value, (
            f"not a real date; accepted: YYYY-MM-DD or {order}{months}, "
            "optionally with HH:MM[:SS]"
        )
    if column in _allowed_columns():
        return f"lower({text})", ""
    return text, ""


def _allowed_columns() -> set[str]:
    return {c for t in schema.TABLES.values() for c in t.allowed}


def row_checks(
    target: Target,
    columns: Columns,
    rules: dict[str, str],
    typed: str,
    *,
    units: str,
    stored_keys: str | None,
) -> list[Check]:
    """The rules for every row of `typed`.

    Parameters
    ----------
    units
        A relation with the store's units (``unit_id``, ``parent_id``).
    stored_keys
        A relation with the key columns of rows already stored that the file's
        keys could collide with (None when there are none).
    """
    spec = target.spec
    checks = []
    for column, text in columns.texts.items():
        checks += _value_checks(spec, column, text, rules.get(column, ""))
    key = ", ".join(spec.key)
    shown = columns.texts.get(spec.key[0], "NULL")
    keys = " AND ".join(f"{quote(k)} IS NOT NULL" for k in spec.key)
    same = " AND ".join(f"e.{quote(k)} = t.{quote(k)}" for k in spec.key)
    packed = quote(spec.key[0]) if len(spec.key) == 1 else f"({key})"
    checks.append(
        Check(
            key,
            f"appears more than once in this file; each {key} must be unique",
            f"{keys} AND EXISTS (SELECT 1 FROM {typed} e WHERE {same} "
            "AND e._row < t._row)",
            shown,
            count=f"count(*) FILTER ({keys}) - "
            f"count(DISTINCT {packed}) FILTER ({keys})",
        )
    )
    if stored_keys:
        match = " AND ".join(f"s.{quote(k)} = t.{quote(k)}" for k in spec.key)
        checks.append(
            Check(
                key,
                f"already in the store; each {key} must be new",
                f"EXISTS (SELECT 1 FROM {stored_keys} s WHERE {match})",
                shown,
            )
        )
    known = f"SELECT unit_id FROM {units} WHERE unit_id IS NOT NULL"
    if target.table == "units":
        checks.append(
            Check(
                "parent_id",
                "parent unit does not exist; accepted: a unit_id of this file or "
                "of the store",
                f"parent_id IS NOT NULL AND parent_id NOT IN ({known}) AND "
                f"parent_id NOT IN (SELECT unit_id FROM {typed} WHERE unit_id "
                "IS NOT NULL)",
                columns.texts.get("parent_id", "NULL"),
            )
        )
    elif "unit_id" in columns.texts:
        checks.append(
            Check(
                "unit_id",
                "unknown unit; accepted: a unit_id of the store's units (import "
                "units first)",
                f"unit_id IS NOT NULL AND unit_id NOT IN ({known})",
                columns.texts["unit_id"],
            )
        )
    return checks


def _value_checks(
    spec: schema.Table, column: str, text: str, parse_rule: str
) -> list[Check]:
    value = quote(column)
    checks = []
    if column in spec.required:
        blank = f"NOT {_given(column)}" if parse_rule else f"{value} IS NULL"
        checks.append(Check(column, "blank; a value is required", blank, "NULL"))
    if parse_rule:
        checks.append(
            Check(column, parse_rule, f"{_given(column)} AND {value} IS NULL", text)
        )
    low_high = spec.ranges.get(column)
    if column not in spec.columns:
        low_high = schema.SCORE_RANGES["item"]
    if low_high:
        low, high = low_high
        checks.append(
            Check(
                column,
                f"out of range; accepted: whole numbers from {low} to {high}",
                f"{value} NOT BETWEEN {low} AND {high}",
                text,
            )
        )
    if spec.columns.get(column) == dt.Int64():
        checks.append(
            Check(column, "negative; accepted: 0 or more", f"{value} < 0", text)
        )
    if column in spec.allowed:
        accepted = ", ".join(spec.allowed[column])
        listed = ", ".join(literal(v) for v in spec.allowed[column])
        checks.append(
            Check(
                column,
                f"not an allowed value; accepted: {accepted}",
                f"{value} NOT IN ({listed})",
                text,
            )
        )
    return checks


def run_checks(
    con: duckdb.DuckDBPyConnection,
    staged: str,
    typed: str,
    checks: list[Check],
    *,
    path: Path,
    extra: list[dict] | None = None,
) -> None:
    """Count every rule's failures in one scan; raise if any row fails.

    Raises
    ------
    ImportValidationError
        Listing the first problems by row, and the count per rule.
    """
    counts_row = con.execute(
        "SELECT "
        + ", ".join(c.count or f"count(*) FILTER ({c.failing})" for c in checks)
        + f" FROM {typed} t"
    ).fetchone()
    failing = [(c, n) for c, n in zip(checks, counts_row, strict=True) if n]
    extra = extra or []
    if not failing and not extra:
        return

    problems = list(extra)
    counts: dict[str, int] = {}
    for p in extra:
        key = f"{p['column']}: {p['rule'].split(' (')[0]}"
        counts[key] = counts.get(key, 0) + 1
    for check, n in failing:
        counts[f"{check.column}: {check.rule.split(';')[0]}"] = n
        rows = con.execute(
            f"SELECT t._row, {check.value} FROM {typed} t JOIN {staged} src "
            f"ON src._row = t._row WHERE {check.failing} "
            f"ORDER BY t._row LIMIT {MAX_PROBLEMS}"
        ).fetchall()
        problems += [
            {"row": row, "column": check.column, "value": value, "rule": check.rule}
            for row, value in rows
        ]
    problems.sort(key=lambda p: p["row"] or 0)
    raise ImportValidationError(str(path), problems[:MAX_PROBLEMS], counts)


def cycle_problems(
    con: duckdb.DuckDBPyConnection, typed: str, units: str
) -> list[dict]:
    """Units of the file whose chain of parents comes back to themselves.

    Units files are small, so the graph is walked in Python over the unit table.
    """
    parent = dict(
        con.execute(
            f"SELECT unit_id, parent_id FROM {units} WHERE unit_id IS NOT NULL"
        ).fetchall()
    )
    rows = con.execute(
        f"SELECT unit_id, parent_id, _row FROM {typed} WHERE unit_id IS NOT NULL"
    ).fetchall()
    parent.update({unit: up for unit, up, _ in rows})

    problems = []
    for unit, up, row in rows:
        chain, current = [unit], up
        while (
            current is not None and current not in chain and len(chain) <= len(parent)
        ):
            chain.append(current)
            current = parent.get(current)
        if current == unit:
            path = " → ".join(chain + [unit])
            problems.append(
                {
                    "row": row,
                    "column": "parent_id",
                    "value": up,
                    "rule": f"makes a cycle in the hierarchy ({path}); the "
                    "hierarchy must be a tree",
                }
            )
    return problems
