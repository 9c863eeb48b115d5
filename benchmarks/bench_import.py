"""Validated import throughput: rows/s from Parquet and from CSV into a DuckDB store.

Generates N customer responses (with two item columns) with DuckDB's COPY, then
imports them with :func:`excx.ingest.import_file` into a fresh DuckDB store per
format, each in its own process so that peak RSS is measured per format.

    python benchmarks/bench_import.py 2000000
    python benchmarks/bench_import.py 35000000 --formats csv   # a 2 GB CSV file

Targets: at least 1M rows/s from Parquet and 300k rows/s from CSV. The peer in the
same run is a hand-written DuckDB ``INSERT … SELECT`` of the same file into the same
tables with no validation at all (``read_parquet`` / ``read_csv``, items unpivoted):
the ratio says what validation and atomicity cost over the bare write.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

UNITS = 200


def generate(folder: Path, rows: int, formats=("parquet", "csv")) -> dict[str, Path]:
    """Write units.csv and responses.<format> with `rows` responses."""
    con = duckdb.connect()
    units = folder / "units.csv"
    con.execute(
        f"COPY (SELECT 'U' || i AS unit_id, 'Unit ' || i AS name, NULL AS parent_id, "
        f"'branch' AS kind FROM range({UNITS}) t(i)) TO '{units}' (HEADER)"
    )
    query = f"""
        SELECT 'r' || i AS response_id,
               TIMESTAMP '2026-01-01' + to_seconds(i % 31536000) AS submitted_at,
               ['store', 'contact_centre', 'web', 'app'][1 + i % 4] AS channel,
               ['human', 'bot', 'self_service'][1 + i % 3] AS served_by,
               'U' || (i % {UNITS}) AS unit_id,
               i % 11 AS nps, 1 + i % 5 AS csat, 1 + i % 7 AS ces,
               1 + (i // 3) % 5 AS item_courtesy, 1 + (i // 7) % 5 AS item_speed
        FROM range({rows}) t(i)
    """
    files = {"units": units}
    for kind, options in (("parquet", "FORMAT parquet"), ("csv", "HEADER")):
        if kind not in formats:
            continue
        files[kind] = folder / f"responses.{kind}"
        con.execute(f"COPY ({query}) TO '{files[kind]}' ({options})")
    con.close()
    return files


def run_one(folder: Path, kind: str) -> dict:
    """Import units then the responses file of `kind`; return the figures."""
    import excx
    from excx.ingest import import_file

    store = excx.connect(f"duckdb://{folder / f'store_{kind}.duckdb'}")
    store.init()
    import_file(store, "units", folder / "units.csv")
    path = folder / f"responses.{kind}"
    started = time.perf_counter()
    report = import_file(store, "customer-responses", path)
    elapsed = time.perf_counter() - started
    assert store.count("customer_responses") == report.rows_written
    store.close()
    return {
        "format": kind,
        "rows": report.rows_written,
        "items": report.items_written,
        "seconds": round(elapsed, 2),
        "rows_per_s": round(report.rows_written / elapsed),
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3),
    }


def run_peer(folder: Path, kind: str) -> dict:
    """The same rows written by hand-written DuckDB SQL, nothing validated."""
    import excx

    path = folder / f"responses.{kind}"
    store = excx.connect(f"duckdb://{folder / f'peer_{kind}.duckdb'}")
    store.init()
    con = store.raw
    reader = f"read_{kind}('{path}')"
    columns = "response_id, submitted_at, channel, served_by, unit_id, nps, csat, ces"
    started = time.perf_counter()
    con.begin()
    con.execute(
        f"INSERT INTO customer_responses ({columns}) SELECT {columns} FROM {reader}"
    )
    con.execute(
        "INSERT INTO customer_items SELECT response_id, substr(item_column, 6), value "
        f"FROM (SELECT response_id, item_courtesy, item_speed FROM {reader}) "
        "UNPIVOT (value FOR item_column IN (item_courtesy, item_speed))"
    )
    con.commit()
    elapsed = time.perf_counter() - started
    rows = store.count("customer_responses")
    store.close()
    return {"format": kind, "rows": rows, "seconds": round(elapsed, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, nargs="?", default=2_000_000)
    parser.add_argument(
        "--formats",
        nargs="+",
        choices=["parquet", "csv"],
        default=["parquet", "csv"],
        help="file formats to generate and import (default: both)",
    )
    parser.add_argument(
        "--one", nargs=2, metavar=("FOLDER", "FORMAT"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--peer", nargs=2, metavar=("FOLDER", "FORMAT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(Path(args.one[0]), args.one[1])))
        return
    if args.peer:
        print(json.dumps(run_peer(Path(args.peer[0]), args.peer[1])))
        return

    with tempfile.TemporaryDirectory(prefix="excx-bench-") as folder:
        started = time.perf_counter()
        generate(Path(folder), args.rows, args.formats)
        seconds = time.perf_counter() - started
        print(f"generated {args.rows:,} responses in {seconds:.1f} s")
        targets = {"parquet": 1_000_000, "csv": 300_000}
        for kind, target in targets.items():
            if kind not in args.formats:
                continue
            figures = _child("--one", folder, kind)
            peer = _child("--peer", folder, kind)
            verdict = "meets" if figures["rows_per_s"] >= target else "misses"
            print(
                f"{kind:8s} {figures['rows']:>10,} rows + {figures['items']:,} items "
                f"in {figures['seconds']:.2f} s = {figures['rows_per_s']:>10,} rows/s "
                f"({verdict} {target:,}); file {figures['file_mb']} MB, "
                f"peak RSS {figures['peak_rss_mb']} MB"
            )
            print(
                f"{'':8s} peer (DuckDB INSERT … SELECT, no validation) "
                f"{peer['seconds']:.2f} s; excx / peer = "
                f"{figures['seconds'] / peer['seconds']:.2f}×"
            )


def _child(flag: str, folder: str, kind: str) -> dict:
    """Run one measurement in a fresh process (so peak RSS is its own)."""
    out = subprocess.run(
        [sys.executable, __file__, flag, folder, kind],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
