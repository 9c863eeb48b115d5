"""Readers: a CSV, XLSX or Parquet file into a DuckDB staging table of text.

Every column is staged as VARCHAR, untouched, with the row number a spreadsheet
shows (header = row 1), so that parsing and validation happen afterwards as SQL.
A Parquet column that already holds numbers or times is staged as well in its own
type, so that it need not be printed as text and parsed back.
CSV and Parquet are read by DuckDB itself and stream; XLSX goes through openpyxl
in read-only mode, which walks the rows in Python (an XLSX sheet holds at most
1,048,576 rows, so this bounds the cost).

CSV dialects: the delimiter (comma, semicolon, tab, pipe) is taken from the
header line; the encoding from the first 64 KiB (a BOM, else UTF-8 if the sample
decodes, else cp1252). cp1252 and UTF-16 files are transcoded to a temporary
UTF-8 file first, in chunks. A blank line is skipped, so after one the row
numbers of a CSV drift from what a text editor shows by one.
"""

from __future__ import annotations

import codecs
import csv
import logging
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from excx.errors import ImportValidationError, InputError
from excx.ingest import parse
from excx.ingest.parse import quote

__all__ = ["Staged", "stage", "detect_format"]

log = logging.getLogger("excx")

_SAMPLE = 64 * 1024
_XLSX_BATCH = 10_000
_MAGIC = {
    b"PK\x03\x04": "a ZIP archive (an .xlsx or .docx renamed?)",
    b"PAR1": "a Parquet file",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls / OLE file",
}
_ACCEPTED_FILES = (
    "accepted: CSV text (UTF-8 with or without BOM, cp1252), .xlsx, .parquet"
)


@dataclass(frozen=True)
class Staged:
    """A file staged as text in DuckDB.

    Attributes
    ----------
    relation
        Name of the staging view: ``_row`` (spreadsheet row) then ``c0 … cN``.
    columns
        The file's column names, in order; ``columns[i]`` is staged as ``c{i}``.
    rows
        Number of data rows (entirely blank rows are not counted).
    delimiter
        The CSV delimiter, None for XLSX and Parquet.
    native
        Position to DuckDB type of the columns also staged in their own type,
        as ``v{position}`` (Parquet numbers, dates and times).
    """

    relation: str
    columns: list[str]
    rows: int
    delimiter: str | None = None
    native: dict[int, str] = field(default_factory=dict)


def detect_format(path: Path) -> str:
    """Return ``csv``, ``xlsx`` or ``parquet`` from the extension and first bytes."""
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(8)
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    return "csv"


def stage(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    name: str,
    header_rows: int = 1,
    workdir: Path,
) -> Staged:
    """Stage `path` as text in `con` under the view `name`.

    Parameters
    ----------
    header_rows
        Rows before the data, the header included (3 for a Qualtrics export).
    workdir
        Folder for a transcoded copy of the file, when one is needed.

    Raises
    ------
    ImportValidationError
        If the file is empty, has no data rows or is not a well-formed table.
    """
    kind = detect_format(path)
    raw = f"{name}_raw"
    delimiter, index, native = None, "rowid", {}
    if kind == "csv":
        columns, delimiter = _stage_csv(con, path, raw, workdir)
    elif kind == "xlsx":
        columns = _stage_xlsx(con, path, raw)
    else:
        columns, native = _stage_parquet(con, path, raw)
        index = "file_row_number"

    names = [f"c{i}" for i in range(len(columns))]
    # A native value is null exactly when its text is; testing it skips the text.
    tested = [f"v{i}" if i in native else f"c{i}" for i in range(len(columns))]
    not_blank = " OR ".join(f"{n} IS NOT NULL" for n in tested)
    selected = ", ".join(names + [f"v{i}" for i in native])
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {index} + 2 AS _row, "
        f"{selected} FROM {raw} "
        f"WHERE {index} >= {header_rows - 1} AND ({not_blank})"
    )
    rows = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    log.info("staged %d rows of %s (%s)", rows, path, kind)
    if rows == 0:
        raise _file_problem(
            path,
            header_rows + 1,
            "the file has a header but no data rows; "
            f"data are expected from row {header_rows + 1}",
            "no data rows",
        )
    return Staged(name, columns, rows, delimiter, native)


def _file_problem(path: Path, row: int | None, rule: str, key: str):
    problem = {"row": row, "column": None, "value": None, "rule": rule}
    return ImportValidationError(str(path), [problem], {key: 1})


def _stage_csv(con, path: Path, raw: str, workdir: Path) -> tuple[list[str], str]:
    with path.open("rb") as handle:
        sample = handle.read(_SAMPLE)
    if not sample.strip(b" \t\r\n\xef\xbb\xbf"):
        raise _file_problem(
            path,
            None,
            "the file is empty; expected a header row of column names",
            "empty file",
        )
    encoding = _encoding(path, sample)
    readable = path
    if encoding not in ("utf-8", "utf-8-sig"):
        readable = _transcode(path, encoding, workdir)

    header_line = _first_line(readable)
    delimiter = _delimiter(header_line)
    header = _header(readable, delimiter)
    _check_header(path, header)
    try:
        _read_csv(con, readable, raw, delimiter, len(header))
    except duckdb.InvalidInputException as exc:
        if "unicode" not in str(exc).lower() or encoding != "utf-8":
            raise _csv_error(path, exc) from None
        # The sample was UTF-8 but a later byte is not: a cp1252 file after all.
        log.info("%s is not UTF-8 throughout; reading it as cp1252", path)
        readable = _transcode(path, "cp1252", workdir)
        try:
            _read_csv(con, readable, raw, delimiter, len(header))
        except duckdb.InvalidInputException as exc:
            raise _csv_error(path, exc) from None
    return header, delimiter


def _read_csv(con, path: Path, raw: str, delimiter: str, width: int) -> None:
    """Stage every field as VARCHAR, named c0 … c{width-1}, in file order."""
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width))
    quoted = str(path).replace("'", "''")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT * FROM read_csv('{quoted}', "
        f"delim = '{delimiter}', quote = '\"', escape = '\"', header = true, "
        f"auto_detect = false, columns = {{{columns}}})"
    )


def _encoding(path: Path, sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for magic, what in _MAGIC.items():
        if sample.startswith(magic):
            raise _binary(path, f"it is {what}")
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in sample or controls > len(sample) // 100:
        raise _binary(path, f"it holds {controls} control bytes in its first KiBs")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError as exc:
        why = f"byte {sample[exc.start]:#x} is neither UTF-8 nor cp1252"
        raise _binary(path, why) from None
    return "cp1252"


def _binary(path: Path, why: str) -> InputError:
    return InputError(f"{path} is not a text CSV file ({why}); {_ACCEPTED_FILES}")


def _transcode(path: Path, encoding: str, workdir: Path) -> Path:
    target = workdir / f"{path.stem}.utf8.csv"
    log.info("transcoding %s from %s to UTF-8", path, encoding)
    with (
        path.open("r", encoding=encoding, newline="") as source,
        target.open("w", encoding="utf-8", newline="") as sink,
    ):
        shutil.copyfileobj(source, sink, 1 << 20)
    return target


def _first_line(path: Path) -> str:
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        return handle.readline()


def _delimiter(line: str) -> str:
    unquoted = re.sub(r'"[^"]*"', "", line)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _header(path: Path, delimiter: str) -> list[str]:
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        first = next(csv.reader(handle, delimiter=delimiter, quotechar='"'), [])
    return [name.strip() for name in first]


def _check_header(path: Path, header: list[str]) -> None:
    problems = []
    for i, name in enumerate(header):
        if not name:
            rule = "a column has no name; every header cell needs a column name"
            problems.append(
                {"row": 1, "column": f"#{i + 1}", "value": "", "rule": rule}
            )
        elif header.index(name) != i:
            rule = "column name appears twice; every column needs a distinct name"
            problems.append({"row": 1, "column": name, "value": None, "rule": rule})
    if problems:
        raise ImportValidationError(str(path), problems, {"header": len(problems)})


def _csv_error(path: Path, exc: Exception) -> ImportValidationError:
    text = str(exc)
    match = re.search(r"Line: (\d+)", text)
    detail = next(
        (line for line in text.splitlines() if "Expected Number" in line),
        text.splitlines()[0],
    )
    line = int(match.group(1)) if match else None
    rule = f"malformed CSV ({detail.strip()}); every row needs one value per column"
    problem = {"row": line, "column": None, "value": None, "rule": rule}
    return ImportValidationError(str(path), [problem], {"malformed CSV": 1})


def _stage_xlsx(con, path: Path, raw: str) -> list[str]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputError(f"{path} cannot be read as .xlsx: {exc}") from exc
    try:
        rows = book.active.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None or all(v is None for v in first):
            raise _file_problem(
                path,
                None,
                "the sheet is empty; expected a header row in row 1",
                "empty file",
            )
        header = [_cell_text(v) or "" for v in first]
        while header and not header[-1]:
            header.pop()
        _check_header(path, header)
        names = [f"c{i}" for i in range(len(header))]
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {raw} ("
            + ", ".join(f"{n} VARCHAR" for n in names)
            + ")"
        )
        batch: list[tuple] = []
        for values in rows:
            batch.append(values)
            if len(batch) == _XLSX_BATCH:
                _append_xlsx(con, raw, names, batch)
                batch = []
        _append_xlsx(con, raw, names, batch)
    finally:
        book.close()
    return header


def _append_xlsx(con, raw: str, names: list[str], batch: list[tuple]) -> None:
    if not batch:
        return
    width = len(names)
    columns = [
        pa.array([_cell_text(r[i]) if i < len(r) else None for r in batch], pa.string())
        for i in range(width)
    ]
    incoming = pa.Table.from_arrays(columns, names=names)
    con.register("_excx_xlsx_batch", incoming)
    try:
        con.execute(f"INSERT INTO {raw} SELECT * FROM _excx_xlsx_batch")
    finally:
        con.unregister("_excx_xlsx_batch")


def _cell_text(value: object) -> str | None:
    """An XLSX cell as the text a CSV export would hold."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    text = str(value).strip()
    return text or None


def _stage_parquet(con, path: Path, raw: str) -> tuple[list[str], dict[int, str]]:
    quoted = str(path).replace("'", "''")
    try:
        described = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{quoted}')"
        ).fetchall()
    except duckdb.Error as exc:
        raise InputError(f"{path} cannot be read as Parquet: {exc}") from exc
    header = [row[0] for row in described]
    native = {i: row[1] for i, row in enumerate(described) if parse.is_native(row[1])}
    names = [quote(name) for name in header]
    selects = [f"CAST({name} AS VARCHAR) AS c{i}" for i, name in enumerate(names)]
    selects += [f"{names[i]} AS v{i}" for i in native]
    # Parquet is a stable, columnar file: a view over it streams, no copy needed;
    # the columns that a query does not use are not read.
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {raw} AS SELECT file_row_number, "
        f"{', '.join(selects)} FROM read_parquet('{quoted}', file_row_number = true)"
    )
    return header, native
