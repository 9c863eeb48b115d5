"""Import one file into the store: stage, validate, write all or nothing, once."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
from ibis.backends.sql.datatypes import DuckDBType

from excx.errors import InputError
from excx.ingest.parse import quote
from excx.ingest.profiles import Mapping, load_mapping
from excx.ingest.profiles import profile as get_profile
from excx.ingest.readers import Staged, stage
from excx.ingest.staging import one_import_at_a_time, staging
from excx.ingest.targets import Columns, Target, resolve_columns
from excx.ingest.targets import target as get_target
from excx.ingest.validate import cycle_problems, row_checks, run_checks, type_columns
from excx.store import Store

__all__ = ["ImportReport", "import_file", "Progress"]

log = logging.getLogger("excx")

#: Called as ``progress(step, done, total)`` after each step of an import.
Progress = Callable[[str, int, int], None]
_STEPS = ("checking file", "reading", "validating", "writing")


@dataclass(frozen=True)
class ImportReport:
    """What an import did.

    Attributes
    ----------
    target, path
        What was imported, from where.
    rows_read
        Data rows in the file (entirely blank rows are not counted).
    rows_written
        Rows added to the target's main table (0 for a dry run or a repeat).
    items_written
        Rows added to the item table (employee or customer items).
    skipped_as_already_imported
        True when the same bytes were imported to the same target before.
    already_imported_at
        When that earlier import happened.
    dry_run
        True when the file was only validated.
    elapsed_seconds
        Wall-clock time of the import.
    """

    target: str
    path: str
    rows_read: int
    rows_written: int
    items_written: int
    skipped_as_already_imported: bool
    already_imported_at: datetime | None
    dry_run: bool
    elapsed_seconds: float


def import_file(
    store: Store,
    target: str,
    path: str | Path,
    *,
    profile: str = "generic",
    mapping: str | Path | Mapping | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate a CSV, XLSX or Parquet file and add its rows to the store.

    Parameters
    ----------
    store
        The open, initialised store.
    target
        ``units``, ``employee-responses``, ``customer-responses`` or ``outcomes``.
    path
        The file; its format comes from the extension (``.csv``, ``.xlsx``,
        ``.parquet``), its CSV dialect from its content.
    profile
        ``generic`` (canonical column names) or ``qualtrics``; see
        :mod:`excx.ingest.profiles`.
    mapping
        A TOML mapping file (or a :class:`Mapping`) added on top of the profile.
    dry_run
        Validate and report, write nothing.
    progress
        Called as ``progress(step, done, total)`` after each step.

    Returns
    -------
    ImportReport

    Raises
    ------
    ImportValidationError
        If any row breaks a rule; nothing is written, to any table.
    InputError
        If the file is missing, binary, or the target or profile is unknown.

    Notes
    -----
    Parsing and every rule run as SQL in DuckDB over a staging table of text:
    the store's own connection for a DuckDB store, an in-memory DuckDB with a
    1 GB memory limit (spilling to a temporary folder) otherwise. A DuckDB store
    is then written with ``INSERT … SELECT`` in one transaction; a PostgreSQL
    store receives the typed rows through :meth:`Store.write` (one transaction,
    rows held as Arrow in memory meanwhile). Each import is recorded in the
    ``imports`` table with the SHA-256 of the file bytes; the same bytes imported
    to the same target again are skipped.

    Imports into one PostgreSQL store run one at a time (an advisory lock
    held from the check for an earlier import to the write), so the checks
    against the store still hold when the rows are written.

    Examples
    --------
    >>> import excx, tempfile, pathlib
    >>> store = excx.connect("duckdb://:memory:"); store.init()
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "units.csv").write_text("unit_id;name;kind\\nB1;Roma;branch\\n")
    >>> import_file(store, "units", folder / "units.csv").rows_written
    1
    """
    started = time.perf_counter()
    chosen = get_target(target)
    path = Path(path)
    if not path.is_file():
        raise InputError(f"file {path} does not exist or is not a file")
    step = _stepper(progress)

    digest = _sha256(path)
    with one_import_at_a_time(store):
        previous = _previous_import(store, chosen.name, digest)
        step()
        if previous is not None:
            log.info("%s was already imported to %s on %s", path, target, previous)
            return ImportReport(
                target=chosen.name,
                path=str(path),
                rows_read=0,
                rows_written=0,
                items_written=0,
                skipped_as_already_imported=True,
                already_imported_at=previous,
                dry_run=dry_run,
                elapsed_seconds=time.perf_counter() - started,
            )
        rows_read, written = _stage_check_write(
            store, path, chosen, profile, mapping, digest, dry_run=dry_run, step=step
        )
    elapsed = time.perf_counter() - started
    log.info("imported %d rows of %s in %.2f s", written[0], path, elapsed)
    return ImportReport(
        target=chosen.name,
        path=str(path),
        rows_read=rows_read,
        rows_written=written[0],
        items_written=written[1],
        skipped_as_already_imported=False,
        already_imported_at=None,
        dry_run=dry_run,
        elapsed_seconds=elapsed,
    )


def _stage_check_write(
    store: Store, path: Path, chosen, profile, mapping, digest: str, *, dry_run, step
) -> tuple[int, tuple[int, int]]:
    """Stage, validate and (unless `dry_run`) write one file; return the rows
    read and the (rows, items) written."""
    with staging(store) as (con, workdir, prefix):
        staged, columns, delimiter = _stage(
            con, path, chosen, profile, mapping, workdir, prefix
        )
        step()
        typed = _validate(con, store, path, chosen, staged, columns, delimiter, prefix)
        step()
        written = (0, 0)
        if not dry_run:
            written = _write(
                con, store, chosen, columns, typed, path, digest, staged.rows
            )
        step()
    return staged.rows, written


def _stepper(progress: Progress | None) -> Callable[[], None]:
    done = iter(range(1, len(_STEPS) + 1))

    def step() -> None:
        n = next(done)
        if progress is not None:
            progress(_STEPS[n - 1], n, len(_STEPS))

    return step


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _previous_import(store: Store, target: str, digest: str) -> datetime | None:
    imports = store.table("imports")
    earlier = imports.filter(
        (imports.sha256 == digest) & (imports.target == target)
    ).imported_at.min()
    found = store.execute(earlier)
    if found is None or pd.isna(found):
        return None
    return pd.Timestamp(found).to_pydatetime()


def _stage(con, path, chosen, profile, mapping, workdir, prefix):
    header_rows = get_profile(profile).header_rows
    staged = stage(con, path, name=prefix, header_rows=header_rows, workdir=workdir)
    rules = get_profile(profile, staged.columns)
    if isinstance(mapping, Mapping):
        rules = rules.merged(mapping)
    elif mapping is not None:
        rules = rules.merged(load_mapping(mapping))
    columns = resolve_columns(path, staged.columns, chosen, rules, staged.native)
    return staged, columns, staged.delimiter


def _validate(con, store, path, chosen, staged: Staged, columns, delimiter, prefix):
    typed = f"{prefix}_typed"
    rules = type_columns(
        con, staged.relation, typed, chosen, columns, delimiter=delimiter
    )
    units, stored_keys = _store_relations(con, store, chosen, typed, prefix)
    checks = row_checks(
        chosen, columns, rules, typed, units=units, stored_keys=stored_keys
    )
    extra = cycle_problems(con, typed, units) if chosen.table == "units" else []
    run_checks(con, staged.relation, typed, checks, path=path, extra=extra)
    return typed


def _store_relations(con, store, chosen: Target, typed: str, prefix: str):
    """Relations in `con` holding the store's units and the colliding keys."""
    if store.backend == "duckdb":
        return "units", chosen.table
    units = store.to_pyarrow(store.table("units").select("unit_id", "parent_id"))
    con.register(f"{prefix}_units", units)

    key = chosen.spec.key
    file_keys = (
        con.execute(
            f"SELECT DISTINCT {quote(key[0])} FROM {typed} WHERE {quote(key[0])} "
            "IS NOT NULL"
        )
        .to_arrow_table()
        .column(0)
        .combine_chunks()
    )
    if len(key) == 1:
        existing = pa.table({key[0]: store.existing_keys(chosen.table, file_keys)})
    else:
        stored = store.table(chosen.table)
        wanted = stored[key[0]].isin(file_keys.to_pylist())
        existing = store.to_pyarrow(stored.filter(wanted).select(*key))
    con.register(f"{prefix}_stored", existing)
    return f"{prefix}_units", f"{prefix}_stored"


def _selects(
    chosen: Target, columns: Columns, typed: str
) -> dict[str, tuple[list[str], str]]:
    """The SQL producing each table's rows, typed as the canonical tables."""
    spec = chosen.spec
    present = [c for c in spec.columns if c in columns.texts]
    main = ", ".join(
        f"CAST({quote(c)} AS {DuckDBType.to_string(spec.columns[c])}) AS {quote(c)}"
        for c in present
    )
    selects = {chosen.table: (present, f"SELECT {main} FROM {typed}")}
    if chosen.items and columns.items:
        items = ", ".join(quote(i) for i in columns.items)
        selects[chosen.items] = (
            ["response_id", "item_id", "value"],
            (
                "SELECT response_id, substr(item_column, 6) AS item_id, "
                "CAST(value AS SMALLINT) AS value FROM "
                f"(SELECT response_id, {items} FROM {typed}) "
                f"UNPIVOT (value FOR item_column IN ({items}))"
            ),
        )
    return selects


def _write(con, store, chosen, columns, typed, path, digest, rows) -> tuple[int, int]:
    selects = _selects(chosen, columns, typed)
    record = pa.table(
        {
            "import_id": [uuid.uuid4().hex],
            "target": [chosen.name],
            "source": [str(path.resolve())],
            "sha256": [digest],
            "rows": [rows],
            "imported_at": [datetime.now(UTC).replace(tzinfo=None)],
        }
    )
    if store.backend != "duckdb":
        tables = {
            name: con.execute(sql).to_arrow_table()
            for name, (_, sql) in selects.items()
        }
        store.write({**tables, "imports": record})
        counts = [t.num_rows for t in tables.values()]
        return counts[0], sum(counts[1:])

    counts = []
    with store.transaction():  # con is the store's own connection here
        for name, (present, sql) in selects.items():
            names = ", ".join(quote(c) for c in present)
            counts.append(
                con.execute(f"INSERT INTO {quote(name)} ({names}) {sql}").fetchone()[0]
            )
        con.register("_excx_import_record", record)
        con.execute(
            f"INSERT INTO imports ({', '.join(record.column_names)}) "
            f"SELECT * FROM _excx_import_record"
        )
        con.unregister("_excx_import_record")
    return counts[0], sum(counts[1:])
