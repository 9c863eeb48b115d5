"""Import customer interaction logs, validated as a whole: all rows or none.

A log has one row per contact event: ``customer_ref``, ``timestamp`` (or
``occurred_at``), ``channel``, ``served_by``, ``unit_id`` (empty for digital
contacts) and, optionally, ``response_id`` (the survey answer the journey led to).
The events of one ``customer_ref`` form one journey.

Checks run in a local DuckDB over the whole file before anything is written:
required values, allowed channels and served_by, timestamps, unknown units and
responses, events of one customer_ref out of time order (in file order),
duplicate events in the file and events already stored. Any failure raises
:class:`~excx.errors.ImportValidationError` listing rows, columns and rules.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from excx.errors import ImportValidationError, InputError
from excx.schema import CHANNELS, SERVED_BY, table
from excx.store import Store

__all__ = ["import_interactions", "LOG_COLUMNS"]

log = logging.getLogger("excx")

LOG_COLUMNS = ("customer_ref", "timestamp", "channel", "served_by", "unit_id")
OPTIONAL_COLUMNS = ("response_id",)
_ALIASES = {"occurred_at": "timestamp"}
_KEY = table("interactions").key


def import_interactions(
    store: Store, source: str | Path | pa.Table, *, max_problems: int = 20
) -> int:
    """Validate an interaction log and append it to ``interactions``.

    Parameters
    ----------
    store
        The open, initialised store (units and responses already imported).
    source
        A CSV or Parquet file, or an Arrow table with the log's columns.
    max_problems
        Rows listed in the error; counts per rule cover the whole file.

    Returns
    -------
    int
        Events written.

    Raises
    ------
    ImportValidationError
        If any row fails a check; nothing is written.

    Examples
    --------
    >>> import excx, pyarrow as pa
    >>> store = excx.connect("duckdb://:memory:"); store.init()
    >>> log = pa.table({"customer_ref": ["c1", "c1"],
    ...                 "timestamp": ["2025-01-02 10:00", "2025-01-02 10:05"],
    ...                 "channel": ["chatbot", "web"],
    ...                 "served_by": ["bot", "self_service"],
    ...                 "unit_id": [None, None]})
    >>> import_interactions(store, log)
    2
    """
    name, events = _read(source)
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        con.register("raw_log", events)
        con.execute(_TYPED_SQL)
        _register_known(con, store)
        problems, counts = _problems(con, max_problems)
        if not counts:
            counts, problems = _stored_duplicates(con, store, max_problems)
        if counts:
            raise ImportValidationError(name, problems, counts)
        rows = con.execute(
            "SELECT customer_ref, occurred_at, channel, unit_id, served_by, "
            "response_id FROM typed ORDER BY row_number"
        ).fetch_arrow_table()
    store.write({"interactions": rows})
    log.info("imported %d interaction events from %s", rows.num_rows, name)
    return rows.num_rows


def _read(source: str | Path | pa.Table) -> tuple[str, pa.Table]:
    """The log as all-text columns, in file order, with a spreadsheet row number."""
    if isinstance(source, pa.Table):
        name, events = "<table>", source
    else:
        path = Path(source)
        if not path.exists():
            raise InputError(f"{path}: no such file")
        name = str(path)
        if path.suffix.lower() == ".parquet":
            events = pq.read_table(path)
        else:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                header = next(csv.reader(handle), [])
            types = {column: pa.string() for column in header}
            events = pa_csv.read_csv(
                path, convert_options=pa_csv.ConvertOptions(column_types=types)
            )
    events = events.rename_columns(
        [
            _ALIASES.get(c.strip().lower(), c.strip().lower())
            for c in events.column_names
        ]
    )
    missing = [c for c in LOG_COLUMNS if c not in events.column_names]
    if missing:
        raise InputError(
            f"{name}: missing column(s) {', '.join(missing)}; a log has "
            f"{', '.join(LOG_COLUMNS)} and optionally {', '.join(OPTIONAL_COLUMNS)}"
        )
    keep = [c for c in (*LOG_COLUMNS, *OPTIONAL_COLUMNS) if c in events.column_names]
    columns = {c: events.column(c).cast(pa.string()) for c in keep}
    if "response_id" not in columns:
        columns["response_id"] = pa.nulls(events.num_rows, pa.string())
    columns["row_number"] = pa.array(range(2, events.num_rows + 2), pa.int64())
    return name, pa.table(columns)


_TYPED_SQL = """
CREATE TEMP TABLE typed AS
SELECT
    row_number,
    nullif(trim(customer_ref), '') AS customer_ref,
    nullif(trim("timestamp"), '') AS timestamp_text,
    try_cast(nullif(trim("timestamp"), '') AS TIMESTAMP) AS occurred_at,
    lower(nullif(trim(channel), '')) AS channel,
    lower(nullif(trim(served_by), '')) AS served_by,
    nullif(trim(unit_id), '') AS unit_id,
    nullif(trim(response_id), '') AS response_id
FROM raw_log
"""


def _register_known(con, store: Store) -> None:
    """Unit ids, and the response ids the log names, from the store."""
    units = store.to_pyarrow(store.table("units").select("unit_id").distinct())
    con.register("known_units", units)
    named = con.execute(
        "SELECT DISTINCT response_id FROM typed WHERE response_id IS NOT NULL"
    ).fetch_arrow_table()
    found = store.existing_keys("customer_responses", named.column("response_id"))
    con.register("known_responses", pa.table({"response_id": found}))


def _rules() -> list[tuple[str, str, str]]:
    """(rule, column, SQL condition over ``checked``) for every row check."""
    channels = ", ".join(f"'{c}'" for c in CHANNELS)
    served = ", ".join(f"'{s}'" for s in SERVED_BY)
    rules = [
        (f"{c} is required", c, f"{c} IS NULL")
        for c in ("customer_ref", "channel", "served_by")
    ]
    return [
        *rules,
        ("timestamp is required", "timestamp", "timestamp_text IS NULL"),
        (
            "timestamp is not a date-time (use YYYY-MM-DD HH:MM[:SS])",
            "timestamp",
            "timestamp_text IS NOT NULL AND occurred_at IS NULL",
        ),
        (
            f"channel must be one of {', '.join(CHANNELS)}",
            "channel",
            f"channel NOT IN ({channels})",
        ),
        (
            f"served_by must be one of {', '.join(SERVED_BY)}",
            "served_by",
            f"served_by NOT IN ({served})",
        ),
        (
            "unknown unit: not in the units table",
            "unit_id",
            "unit_id IS NOT NULL AND NOT known_unit",
        ),
        (
            "unknown response_id: not in customer_responses",
            "response_id",
            "response_id IS NOT NULL AND NOT known_response",
        ),
        (
            "out of order: earlier than the previous event of this customer_ref",
            "timestamp",
            "occurred_at < previous_at",
        ),
        (
            "duplicate event: same customer_ref, timestamp, channel and served_by as "
            "an earlier row",
            "timestamp",
            "copy > 1",
        ),
    ]


_CHECKED_SQL = """
CREATE TEMP VIEW checked AS
SELECT
    t.*,
    t.unit_id IN (SELECT unit_id FROM known_units) AS known_unit,
    t.response_id IN (SELECT response_id FROM known_responses) AS known_response,
    lag(occurred_at) OVER (PARTITION BY customer_ref ORDER BY row_number)
        AS previous_at,
    row_number() OVER (
        PARTITION BY customer_ref, occurred_at, channel, served_by
        ORDER BY row_number
    ) AS copy
FROM typed AS t
"""


def _problems(con, max_problems: int) -> tuple[list[dict], dict[str, int]]:
    con.execute(_CHECKED_SQL)
    parts = []
    for rule, column, condition in _rules():
        value = "timestamp_text" if column == "timestamp" else column
        parts.append(
            f"SELECT row_number, '{column}' AS column_name, "
            f"CAST({value} AS VARCHAR) AS value, '{rule}' AS rule "
            f"FROM checked WHERE coalesce({condition}, false)"
        )
    con.execute("CREATE TEMP TABLE problems AS " + " UNION ALL ".join(parts))
    counts = dict(
        con.execute("SELECT rule, count(*) FROM problems GROUP BY rule").fetchall()
    )
    listed = con.execute(
        "SELECT row_number, column_name, value, rule FROM problems "
        f"ORDER BY row_number, rule LIMIT {int(max_problems)}"
    ).fetchall()
    problems = [
        {"row": row, "column": column, "value": value, "rule": rule}
        for row, column, value, rule in listed
    ]
    return problems, counts


def _stored_duplicates(con, store: Store, max_problems: int):
    """Events of the log that the store already holds (same key)."""
    keys = con.execute(
        f"SELECT row_number, {', '.join(_KEY)} FROM typed"
    ).fetch_arrow_table()
    probe = ibis.memtable(keys)
    stored = store.table("interactions").select(*_KEY)
    found = store.to_pyarrow(
        probe.semi_join(stored, list(_KEY)).select("row_number", "customer_ref")
    )
    if not found.num_rows:
        return {}, []
    rule = "already imported: this event is in the store"
    rows = sorted(found.column("row_number").to_pylist())
    problems = [
        {"row": row, "column": "customer_ref", "value": None, "rule": rule}
        for row in rows[:max_problems]
    ]
    return {rule: len(rows)}, problems
