"""NPS per unit × channel × month: excx against hand-written DuckDB SQL and pandas.

Generates N customer responses with DuckDB SQL (``range()`` + ``random()``) into a
DuckDB store: 4,300 units × 7 channels × 24 months ≈ 722k cells. Then times, each
in its own process so that peak RSS is measured per method:

- ``excx``:   ``excx.metrics.compute(store, "nps", by=("unit_id", "channel",
  "period"), period="month")`` — counts in the engine, adjusted Wald intervals in
  NumPy, a pandas frame out;
- ``sql``:    one hand-written DuckDB query computing the same counts and the NPS,
  fetched as Arrow (no interval);
- ``pandas``: vectorised pandas groupby on the rows already loaded in memory
  (loading is not timed); on ``--pandas-rows`` rows when fewer than N, the time
  then scaled linearly to N (stated in the output).

    python benchmarks/bench_metrics.py --rows 20000000 [--data /tmp/bench.duckdb]

Targets: excx ≤ 1.2 × DuckDB SQL, ≤ 0.25 × pandas, excx peak RSS < 0.5 GB.
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

UNITS = 4300
MONTHS = 24
SQL = """
    SELECT unit_id, channel, CAST(date_trunc('month', submitted_at) AS DATE) AS period,
           count(nps) AS n,
           count(nps) FILTER (WHERE nps >= 9) AS promoters,
           count(nps) FILTER (WHERE nps <= 6) AS detractors,
           100.0 * (promoters - detractors) / n AS value
    FROM customer_responses
    WHERE nps IS NOT NULL
    GROUP BY ALL
"""


def generate(path: Path, rows: int) -> None:
    """Create the store at `path` and fill customer_responses with `rows` rows."""
    import excx
    from excx.schema import CHANNELS, SERVED_BY

    store = excx.connect(f"duckdb://{path}")
    store.init()
    channels = "[" + ", ".join(f"'{c}'" for c in CHANNELS) + "]"
    served_by = "[" + ", ".join(f"'{s}'" for s in SERVED_BY) + "]"
    store.raw.execute(
        f"""
        INSERT INTO customer_responses
        SELECT 'r' || i, 's1',
               TIMESTAMP '2024-01-01'
                 + to_days(CAST(floor(random() * {MONTHS * 365 // 12}) AS INTEGER))
                 + to_seconds(CAST(floor(random() * 86400) AS INTEGER)),
               {channels}[1 + CAST(floor(random() * {len(CHANNELS)}) AS INTEGER)],
               {served_by}[1 + CAST(floor(random() * {len(SERVED_BY)}) AS INTEGER)],
               'u' || CAST(floor(random() * {UNITS}) AS INTEGER),
               CASE WHEN random() < 0.05 THEN NULL
                    ELSE CAST(floor(random() * 11) AS SMALLINT) END,
               CAST(1 + floor(random() * 5) AS SMALLINT),
               CAST(1 + floor(random() * 7) AS SMALLINT),
               NULL
        FROM range({rows}) t(i)
        """
    )
    store.close()


def excx_query(path: Path):
    import excx
    import excx.metrics

    store = excx.connect(f"duckdb://{path}")

    def run() -> int:
        by = ("unit_id", "channel", "period")
        return len(excx.metrics.compute(store, "nps", by=by, period="month"))

    return run


def sql_query(path: Path):
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    return lambda: con.execute(SQL).to_arrow_table().num_rows


def pandas_query(path: Path, sample: int):
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    frame = con.execute(
        "SELECT unit_id, channel, submitted_at, nps FROM customer_responses "
        f"LIMIT {sample}"
    ).df()

    def run() -> int:
        answered = frame[frame["nps"].notna()]
        month = answered["submitted_at"].to_numpy().astype("datetime64[M]")
        counts = (
            answered.assign(
                period=month,
                promoters=answered["nps"] >= 9,
                detractors=answered["nps"] <= 6,
            )
            .groupby(["unit_id", "channel", "period"], observed=True, sort=False)
            .agg(
                n=("nps", "size"),
                promoters=("promoters", "sum"),
                detractors=("detractors", "sum"),
            )
        )
        counts["value"] = (
            100 * (counts["promoters"] - counts["detractors"]) / counts["n"]
        )
        return len(counts)

    return run


def worker(method: str, path: Path, repeat: int, sample: int) -> None:
    """Time `method` `repeat` times; print the best wall and CPU seconds as JSON."""
    if method == "excx":
        run = excx_query(path)
    elif method == "sql":
        run = sql_query(path)
    else:
        run = pandas_query(path, sample)
    wall, cpu, cells = float("inf"), float("inf"), 0
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        cells = run()  # only the count survives: results do not pile up in memory
        wall = min(wall, time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_SELF)
        used = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        cpu = min(cpu, used)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MB
    print(json.dumps({"seconds": wall, "cpu": cpu, "cells": cells, "peak_mb": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--pandas-rows", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", choices=["excx", "sql", "pandas"])
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--data", type=Path, help="Keep the generated store here; reuse it if present."
    )
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.path, args.repeat, args.pandas_rows)
        return

    with tempfile.TemporaryDirectory() as folder:
        path = args.data or Path(folder) / "bench.duckdb"
        if not path.exists():
            started = time.perf_counter()
            generate(path, args.rows)
            elapsed = time.perf_counter() - started
            print(f"generated {args.rows:,} responses in {elapsed:.1f} s")
        results = {}
        for method in ("excx", "sql", "pandas"):
            command = [
                *(sys.executable, __file__, "--worker", method, "--path", str(path)),
                *("--repeat", str(args.repeat), "--pandas-rows", str(args.pandas_rows)),
            ]
            output = subprocess.run(command, check=True, capture_output=True, text=True)
            results[method] = json.loads(output.stdout.strip().splitlines()[-1])
    report(results, rows=args.rows, sample=min(args.pandas_rows, args.rows))


def report(results: dict, *, rows: int, sample: int) -> None:
    scale = {m: rows / sample if m == "pandas" else 1.0 for m in results}
    for method, figures in results.items():
        note = " (scaled from a sample)" if scale[method] > 1 else ""
        print(
            f"{method:7s} {figures['seconds'] * scale[method]:7.2f} s wall "
            f"{figures['cpu'] * scale[method]:7.2f} s CPU  {figures['cells']:>9,} "
            f"cells  peak RSS {figures['peak_mb']:6.0f} MB{note}"
        )
    for kind, label in (("seconds", "wall"), ("cpu", "CPU")):
        excx = results["excx"][kind]
        sql = results["sql"][kind]
        pandas = results["pandas"][kind] * scale["pandas"]
        print(
            f"{label:4s}: excx / DuckDB SQL {excx / sql:.2f} (target ≤ 1.2), "
            f"excx / pandas {excx / pandas:.2f} (target ≤ 0.25)"
        )
    print(f"excx peak RSS {results['excx']['peak_mb'] / 1024:.2f} GB (target < 0.5)")


if __name__ == "__main__":
    main()
