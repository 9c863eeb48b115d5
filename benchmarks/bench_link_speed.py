"""Speed of ``excx link`` on a large store: 5,000 units × 24 months, 20M answers.

Run: ``.venv/bin/python benchmarks/bench_link_speed.py [--path FILE] [--rebuild]
[--n-boot 2000] [--profile]`` (default file ``/tmp/excx_link_speed.duckdb``).

The store is generated directly in DuckDB SQL (``range()`` and ``hash()``, no
Python loop) into the canonical tables created by ``excx.connect(url).init()``,
and cached: an existing file is reused unless ``--rebuild``. The build runs in a
child process so that the peak RSS printed is that of the linkage run alone.

What the store holds (defaults)
-------------------------------
- ``units``: the company, 10 regions and 5,000 branches (500 per region);
- ``employee_responses``: 15 per unit and month (1.8M), each with the 5
  engagement items in ``employee_items`` (9M rows);
- ``customer_responses``: 20M over the 120k unit-months, 65% served by a person
  of the unit (the rest by a bot or self-service, without a unit), with
  ``customer_items`` (3 service items) for 20% of them (12M rows);
- ``unit_outcomes``: revenue, customers and churn per unit and month.

Answers follow a small latent model so that the models have something to find:
a unit level and a monthly AR-free state drive eNPS and engagement, and the
previous month's state drives the unit's NPS. The figures are not a known-truth
check (see ``bench_link_truth.py``); only the time matters here.

Printed: the seconds of each step that :func:`excx.linkage.link.link` reports
(``report.timings``: engine aggregation, models, bootstrap), the total wall time,
and the peak resident memory of this process.

Measured (2026-12-03, 2 cores shared with other jobs, load average 3-6): the build
takes ~140 s and a 420 MB file. ``link`` took 35.5 s (engine 21.4, models 10.8,
bootstrap 3.3) before link.py reused the naive fit of the corrected model, and
20.8 s after (engine 14.9, models 4.3, bootstrap 1.6), peak RSS 1.5 GB. Of the
engine time, ~8-10 s is the quality cells of ``panel()``: the join of 12M
``customer_items`` with 13M served ``customer_responses`` on the string
``response_id`` (DuckDB hash join, measured 8 s even as hand-written SQL).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import excx
from excx.linkage.link import link

UNITS = 5_000
REGIONS = 10
MONTHS = 24
EMPLOYEES_PER_CELL = 15
CUSTOMER_RESPONSES = 20_000_000
CUSTOMER_ITEM_SHARE = 0.2
DEFAULT_PATH = "/tmp/excx_link_speed.duckdb"

# A uniform draw in [0, 1) from a hash of its arguments (deterministic, parallel).
_U = "((hash({args}) % 1000003) / 1000003.0)"


def uniform(*args: str) -> str:
    """SQL for a uniform draw in [0, 1) seeded by the given SQL expressions."""
    return _U.format(args=", ".join(args))


def _latent_sql() -> str:
    """One row per unit and month: the unit's engagement state (about N(0, 1))."""
    level = "(" + uniform("u", "'level'") + " - 0.5) * 2.4"
    monthly = "(" + uniform("u", "m", "'month'") + " - 0.5) * 2.4"
    return f"""
        CREATE TEMP TABLE latent AS
        SELECT u, m, {level} + {monthly} AS state
        FROM range({UNITS}) units(u), range({MONTHS + 1}) months(m)
    """


def _score(state: str, draw: str, low: int, high: int, spread: float) -> str:
    """An integer answer on low..high that rises with `state`."""
    middle = (low + high) / 2
    value = f"{middle} + {spread} * ({state}) + ({draw} - 0.5) * {high - low + 1}"
    return f"CAST(least({high}, greatest({low}, round({value}))) AS SMALLINT)"


def _statements() -> list[str]:
    """The SQL that fills every canonical table (after the latent table)."""
    per_unit = EMPLOYEES_PER_CELL * MONTHS
    month_start = "TIMESTAMP '2025-01-01' + to_months(CAST({m} AS INTEGER))"
    within = "to_seconds(CAST({draw} * 27 * 86400 AS BIGINT))"
    employee_at = (
        month_start.format(m="e.m") + " + " + within.format(draw=uniform("i", "'t'"))
    )
    customer_at = (
        month_start.format(m="c.m") + " + " + within.format(draw=uniform("i", "'t'"))
    )
    unit_name = "'U' || lpad(CAST({u} AS VARCHAR), 5, '0')"
    served = uniform("i", "'served'")
    return [
        f"""
        INSERT INTO units
        SELECT 'bank', 'Bank', NULL, 'company', NULL, DATE '2025-01-01', NULL
        UNION ALL
        SELECT 'R' || r, 'Region ' || r, 'bank', 'region', 'Region ' || r,
               DATE '2025-01-01', NULL
        FROM range({REGIONS}) t(r)
        UNION ALL
        SELECT {unit_name.format(u="u")}, 'Branch ' || u, 'R' || (u % {REGIONS}),
               'branch', 'Region ' || (u % {REGIONS}), DATE '2025-01-01', NULL
        FROM range({UNITS}) t(u)
        """,
        """
        INSERT INTO surveys
        SELECT 'pulse', 'employee', 'pulse', TIMESTAMP '2025-01-01',
               TIMESTAMP '2027-01-01', '["enps"]'
        UNION ALL
        SELECT 'transactional', 'customer', 'transactional', TIMESTAMP '2025-01-01',
               TIMESTAMP '2027-01-01', '["nps", "csat", "ces"]'
        """,
        f"""
        CREATE TEMP TABLE employees AS
        SELECT i, i // {per_unit} AS u, (i // {EMPLOYEES_PER_CELL}) % {MONTHS} + 1 AS m
        FROM range({UNITS * per_unit}) t(i)
        """,
        f"""
        INSERT INTO employee_responses
        SELECT 'e' || e.i, 'pulse', {unit_name.format(u="e.u")}, {employee_at},
               {_score("l.state", uniform("e.i", "'enps'"), 0, 10, 1.6)},
               'front_office', '1-3y', NULL
        FROM employees e JOIN latent l ON l.u = e.u AND l.m = e.m
        """,
        f"""
        INSERT INTO employee_items
        SELECT 'e' || e.i, 'item' || k,
               {_score("l.state", uniform("e.i", "k"), 1, 5, 0.8)}
        FROM employees e JOIN latent l ON l.u = e.u AND l.m = e.m, range(5) t(k)
        """,
        f"""
        CREATE TEMP TABLE customers AS
        SELECT i, i % {UNITS} AS u, (i // {UNITS}) % {MONTHS} + 1 AS m,
               CASE WHEN {served} < 0.65 THEN 'human'
                    WHEN {served} < 0.77 THEN 'bot' ELSE 'self_service' END
                   AS served_by
        FROM range({CUSTOMER_RESPONSES}) t(i)
        """,
        f"""
        INSERT INTO customer_responses
        SELECT 'c' || c.i, 'transactional', {customer_at},
               CASE c.served_by WHEN 'human' THEN
                   CASE WHEN c.i % 3 = 0 THEN 'contact_centre' ELSE 'store' END
                   WHEN 'bot' THEN 'chatbot' ELSE 'app' END,
               c.served_by,
               CASE WHEN c.served_by = 'human'
                    THEN {unit_name.format(u="c.u")} END,
               {_score("0.8 * p.state", uniform("c.i", "'nps'"), 0, 10, 1.6)},
               {_score("0.8 * p.state", uniform("c.i", "'csat'"), 1, 5, 0.8)},
               {_score("0.8 * p.state", uniform("c.i", "'ces'"), 1, 7, 1.0)},
               NULL
        FROM customers c JOIN latent p ON p.u = c.u AND p.m = c.m - 1
        """,
        f"""
        INSERT INTO customer_items
        SELECT 'c' || c.i, 'item' || k,
               {_score("0.8 * p.state", uniform("c.i", "k"), 1, 5, 0.8)}
        FROM customers c JOIN latent p ON p.u = c.u AND p.m = c.m - 1, range(3) t(k)
        WHERE {uniform("c.i", "'items'")} < {CUSTOMER_ITEM_SHARE}
        """,
        f"""
        INSERT INTO unit_outcomes
        SELECT {unit_name.format(u="u")},
               CAST(DATE '2025-01-01' + to_months(CAST(m AS INTEGER)) AS DATE),
               customers * (40 + 0.5 * state), customers,
               CAST(customers * 0.012 AS BIGINT)
        FROM (SELECT u, m, state, 2000 + CAST(hash(u) % 2000 AS BIGINT) AS customers
              FROM latent WHERE m >= 1)
        """,
    ]


def build(path: str) -> None:
    """Create the store at `path` and fill it (replaces an existing file)."""
    Path(path).unlink(missing_ok=True)
    store = excx.connect(f"duckdb://{path}")
    store.init()
    raw = store.raw
    started = time.perf_counter()
    raw.execute(_latent_sql())
    for statement in _statements():
        raw.execute(statement)
    counts = {
        name: store.count(name)
        for name in ("employee_responses", "employee_items", "customer_responses")
    }
    counts["customer_items"] = store.count("customer_items")
    raw.execute("CHECKPOINT")
    print(f"built {path} in {time.perf_counter() - started:.1f} s: {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=DEFAULT_PATH)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help="cProfile the run")
    args = parser.parse_args()

    if args.build_only:
        build(args.path)
        return
    if args.rebuild or not Path(args.path).exists():
        # In a child process, so that this process's peak RSS is the link run's.
        command = [sys.executable, __file__, "--build-only", "--path", args.path]
        subprocess.run(command, check=True)

    store = excx.connect(f"duckdb://{args.path}")
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            report = profiler.runcall(link, store, n_boot=args.n_boot)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        else:
            report = link(store, n_boot=args.n_boot)
    total = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"panel: {len(report.panel):,} unit-months; n_boot={args.n_boot}")
    for step, seconds in report.timings.items():
        print(f"  {step:<10} {seconds:6.2f} s")
    print(f"  {'total':<10} {total:6.2f} s   (target: at most 30 s)")
    print(f"  peak RSS   {peak_mb:6.0f} MB")
    shown = report.estimates[["model", "term", "estimate", "ci_low", "ci_high"]]
    print(shown.to_string(index=False))


if __name__ == "__main__":
    main()
