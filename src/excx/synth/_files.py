"""Write the synthetic company as the files a user would export from survey tools."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from excx.errors import InputError
from excx.synth._company import Company

log = logging.getLogger("excx")

# File name stem for each import target of the generic profile.
FILES = {
    "units": "units",
    "employee-responses": "employee_responses",
    "customer-responses": "customer_responses",
    "outcomes": "outcomes",
}
FORMATS = ("csv", "parquet")


class _Sink:
    """Append Arrow tables to one CSV or Parquet file."""

    def __init__(self, path: Path, schema: pa.Schema, file_format: str) -> None:
        self.path = path
        if file_format == "csv":
            self.writer = pa_csv.CSVWriter(path, schema)
        else:
            self.writer = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, data: pa.Table) -> None:
        self.writer.write_table(data)

    def close(self) -> None:
        self.writer.close()


def write_files(
    company: Company,
    folder: str | Path,
    *,
    format: str = "csv",
    scores: Mapping[str, pa.Table] | None = None,
) -> dict[str, Path]:
    """Write the company as four files the generic import profile accepts.

    Parameters
    ----------
    company
        From :func:`excx.synth.generate`.
    folder
        Created if missing; existing files of the same names are replaced.
    format
        ``"csv"`` (UTF-8, comma, header row, empty = missing) or ``"parquet"``.
    scores
        Answers to write instead of the company's own: table name
        (``employee_responses``, ``customer_responses``) to a table of
        ``response_id`` and the score columns to replace, such as the answers
        :func:`excx.journey.synth.programme` returns with an activity's effect;
        ``item_<item_id>`` columns the company lacks are added.

    Returns
    -------
    dict
        Import target (``units``, ``employee-responses``, ``customer-responses``,
        ``outcomes``) to the file written.

    Notes
    -----
    Columns carry canonical names; item answers are wide columns ``item_<item_id>``
    on the responses files. Response files are written one month at a time, so
    memory stays bounded for ``size="large"``.

    Examples
    --------
    >>> import tempfile
    >>> from excx.synth import generate, write_files
    >>> paths = write_files(generate("small"), tempfile.mkdtemp())
    >>> sorted(paths)
    ['customer-responses', 'employee-responses', 'outcomes', 'units']
    """
    if format not in FORMATS:
        raise InputError(f"format {format!r} is not known; accepted: csv, parquet")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {target: folder / f"{stem}.{format}" for target, stem in FILES.items()}

    _write_one(paths["units"], company.organisation.units, format)
    _write_one(paths["outcomes"], company.outcomes, format)
    replacements = {
        name: table.to_pandas().set_index("response_id")
        for name, table in (scores or {}).items()
    }
    sinks: dict[str, _Sink] = {}
    try:
        for month in company.months():
            for name, wide in month.items():
                if name in replacements:
                    wide = _replace_scores(wide, replacements[name])
                target = name.replace("_", "-")
                if target not in sinks:
                    sinks[target] = _Sink(paths[target], wide.schema, format)
                sinks[target].write(wide)
    finally:
        for sink in sinks.values():
            sink.close()
    for target, path in paths.items():
        log.info("wrote %s file %s", target, path)
    return paths


def _replace_scores(wide: pa.Table, scores: pd.DataFrame) -> pa.Table:
    """`wide` with each column of `scores` (indexed by response_id) put in; a
    column `wide` lacks (a new item) is added as int16."""
    ids = wide.column("response_id").to_pandas()
    for column in scores.columns:
        values = ids.map(scores[column])
        index = wide.schema.get_field_index(column)
        if index < 0:
            typed = pa.array(values, type=pa.int16(), from_pandas=True)
            wide = wide.append_column(column, typed)
            continue
        if values.isna().any() and not wide.column(column).null_count:
            raise InputError(f"scores for {column} miss some response_id values")
        typed = pa.array(values, type=wide.schema.field(column).type, from_pandas=True)
        wide = wide.set_column(index, column, typed)
    return wide


def _write_one(path: Path, data: pa.Table, file_format: str) -> None:
    sink = _Sink(path, data.schema, file_format)
    try:
        sink.write(data)
    finally:
        sink.close()
