"""Read latency of the dashboard and REST API with 20 logged-in clients.

Run: ``.venv/bin/python benchmarks/load_dashboard.py [--store URL]
[--size medium|small] [--clients 20] [--seconds 60] [--max-requests 20000]
[--keep-schema NAME]``.

What it does (harness from ``load_surveys.py``)
-----------------------------------------------
1. A store holding the demo company, ``excx.synth.generate(size, seed=0)``
   written with ``store.write`` (medium: 223 units, 1.2M customer and 112k
   employee answers over 24 months), and an analyst user. Default: a fresh
   schema on the test PostgreSQL, dropped at the end; ``--keep-schema NAME``
   loads the company into schema NAME once and reuses it on later runs (one
   schema per size).
2. ``excx serve`` as a subprocess on 127.0.0.1 (one uvicorn process; 8 store
   connections).
3. Warm-up: each endpoint once, one after the other, timed: the first
   (computed) answer of each; the store's generation does not change after it,
   so later requests may be answered from the server's cache.
4. `--clients` clients, each logged in with its own session, request the
   endpoints below in turn (each client starting at a different one), closed
   loop without think time, for ``--seconds`` or ``--max-requests`` in all.

Printed: requests, errors, cache hits and computed answers (the server's
``X-Excx-Cache`` header) and p50/p95/p99 latency per endpoint and overall
against the 200 ms p95 target, and CPU seconds of the server. The load
generator runs on the same 2 cores as the server and the database. Figures:
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_surveys import (  # noqa: E402  (the harness sits beside this script)
    DEFAULT_STORE,
    Server,
    machine_note,
    scratch_store,
)

import excx  # noqa: E402
from excx.api.users import add_user  # noqa: E402
from excx.synth import generate  # noqa: E402

ANALYST, PASSWORD = "load_analyst", "load-password-1"
CACHE = "X-Excx-Cache"
TARGET_P95_MS = 200.0
# What a dashboard session reads: KPI breakdowns by several groupings and grains,
# the unit tree, the linkage results, and three server-rendered pages.
ENDPOINTS = {
    "nps by channel×month": "/api/v1/metrics/nps?by=channel,period&period=month",
    "nps by unit×quarter": "/api/v1/metrics/nps?by=unit_id,period&period=quarter",
    "nps by region, 2026": "/api/v1/metrics/nps?by=region&from=2026-01-01"
    "&to=2026-12-31",
    "csat by served_by×month": "/api/v1/metrics/csat?by=served_by,period",
    "ces by channel": "/api/v1/metrics/ces?by=channel",
    "enps by unit×quarter": "/api/v1/metrics/enps?by=unit_id,period&period=quarter",
    "enps by unit, rollup": "/api/v1/metrics/enps?by=unit_id&rollup=true",
    "engagement by region×year": "/api/v1/metrics/engagement?by=region,period"
    "&period=year",
    "units": "/api/v1/units",
    "linkage": "/api/v1/linkage",
    "page overview": "/dashboard",
    "page heatmap": "/dashboard/heatmap",
    "page channels": "/dashboard/channels",
}


@contextlib.contextmanager
def company_store(base: str, size: str, keep: str | None) -> Iterator[str]:
    """A store URL holding the company: a scratch store, or with `keep` a named
    PostgreSQL schema that is loaded the first time and reused afterwards."""
    if keep is None:
        with scratch_store(base) as url:
            load_company(url, size)
            yield url
        return
    import psycopg

    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA IF NOT EXISTS "{keep}"')
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{keep}"
    with excx.connect(url) as store:
        store.init()
        users = store.table("users")
        loaded = int(store.execute(users.filter(users.username == ANALYST).count()))
    if loaded:
        print(f"store: schema {keep!r} reused (loaded by an earlier run)")
    else:
        load_company(url, size)
    yield url


def load_company(url: str, size: str) -> None:
    """Write the synthetic company and the analyst; print how long it took."""
    started = time.perf_counter()
    company = generate(size, seed=0)
    with excx.connect(url) as store:
        store.init()
        store.write(company.tables)
        add_user(store, ANALYST, PASSWORD, role="analyst")
    rows = company.tables["customer_responses"].num_rows
    print(
        f"store: synth {size!r} ({rows:,} customer answers) written in "
        f"{time.perf_counter() - started:.0f} s"
    )


async def _login(client: httpx2.AsyncClient) -> None:
    answer = await client.post(
        "/api/v1/login", json={"username": ANALYST, "password": PASSWORD}
    )
    answer.raise_for_status()


async def warm_up(url: str, endpoints: dict[str, str]) -> dict[str, float]:
    """Each endpoint once, in order; seconds per endpoint. Raises on a non-200."""
    seconds = {}
    async with httpx2.AsyncClient(base_url=url, timeout=600) as client:
        await _login(client)
        for name, path in endpoints.items():
            started = time.perf_counter()
            answer = await client.get(path)
            seconds[name] = time.perf_counter() - started
            if answer.status_code != 200:
                raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
    return seconds


async def warm_up_workers(
    url: str, endpoints: dict[str, str], workers: int
) -> dict[str, float]:
    """:func:`warm_up` by 4 clients per worker at once, each on its own
    connection, so that every worker almost surely computes its own cache
    (a worker missed by all 8 clients of 2 workers: 2 × 2⁻⁸); the slowest
    seconds per endpoint."""
    passes = [
        warm_up(url, endpoints) for _ in range(1 if workers == 1 else 4 * workers)
    ]
    timings = await asyncio.gather(*passes)
    return {name: max(t[name] for t in timings) for name in endpoints}


async def hammer(
    url: str,
    endpoints: dict[str, str],
    *,
    clients: int,
    seconds: float,
    max_requests: int,
):
    """Closed-loop clients, all logged in before the clock starts.

    Returns (endpoint, seconds, status or error name, ``X-Excx-Cache``
    header) per request and the elapsed seconds.
    """
    results: list[tuple[str, float, object, str]] = []
    names = list(endpoints)
    loop = asyncio.get_running_loop()
    sessions = [httpx2.AsyncClient(base_url=url, timeout=60) for _ in range(clients)]

    async def client_loop(number: int, deadline: float) -> None:
        turn = number
        while loop.time() < deadline and len(results) < max_requests:
            name = names[turn % len(names)]
            turn += 1
            started = time.perf_counter()
            cache = "-"
            try:
                answer = await sessions[number].get(endpoints[name])
                status, cache = answer.status_code, answer.headers.get(CACHE, "-")
            except httpx2.HTTPError as exc:
                status = type(exc).__name__
            results.append((name, time.perf_counter() - started, status, cache))

    try:
        await asyncio.gather(*(_login(client) for client in sessions))
        started = loop.time()
        deadline = started + seconds
        await asyncio.gather(*(client_loop(n, deadline) for n in range(clients)))
        elapsed = loop.time() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in sessions))
    return results, elapsed


def print_latencies(results, elapsed: float) -> bool:
    """A table of p50/p95/p99 per endpoint and overall, with how many answers
    were cache hits and how many were computed; True if p95 < target."""
    by_endpoint = defaultdict(list)
    failures, caches = defaultdict(int), defaultdict(Counter)
    for name, seconds, status, cache in results:
        by_endpoint[name].append(seconds * 1000)
        failures[name] += status != 200
        caches[name][cache] += 1
        caches["OVERALL"][cache] += 1
    print(
        f"{'endpoint':28} {'n':>6} {'err':>4} {'hit':>6} {'comp':>5} {'p50':>7} "
        f"{'p95':>7} {'p99':>7}  ms"
    )
    rows = [(name, by_endpoint[name]) for name in ENDPOINTS if name in by_endpoint]
    rows.append(("OVERALL", [s * 1000 for _, s, _, _ in results]))
    failures["OVERALL"] = sum(failures.values())
    for name, values in rows:
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        hits, computed = caches[name]["hit"], caches[name]["computed"]
        print(
            f"{name:28} {len(values):6d} {failures[name]:4d} {hits:6d} {computed:5d} "
            f"{p50:7.1f} {p95:7.1f} {p99:7.1f}"
        )
    overall = np.percentile(rows[-1][1], 95)
    print(f"{len(results)} requests in {elapsed:.1f} s: {len(results) / elapsed:.0f}/s")
    print(
        "hit: every figure from the cache; comp: at least one computed "
        f"(X-Excx-Cache header); {caches['OVERALL']['-']} answers had no header"
    )
    errors = Counter(str(status) for _, _, status, _ in results if status != 200)
    if errors:
        print("errors: " + ", ".join(f"{k} ×{n}" for k, n in errors.most_common()))
    verdict = "met" if overall < TARGET_P95_MS else "NOT met"
    print(f"overall p95 {overall:.0f} ms: target < {TARGET_P95_MS:.0f} ms {verdict}")
    return overall < TARGET_P95_MS and not failures["OVERALL"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default=DEFAULT_STORE)
    parser.add_argument("--size", choices=("small", "medium"), default="medium")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="excx serve --workers; each worker keeps its own cache and is "
        "warmed up separately (the warm-up repeats until every worker answered)",
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument(
        "--skip", default="", help="Comma-separated endpoint names to leave out."
    )
    parser.add_argument(
        "--keep-schema",
        metavar="NAME",
        help="PostgreSQL schema to load the company into once and reuse on later "
        "runs (never dropped); default: a scratch schema dropped at the end.",
    )
    options = parser.parse_args()
    skipped = {name.strip() for name in options.skip.split(",") if name.strip()}
    unknown = skipped - set(ENDPOINTS)
    if unknown:
        parser.error(f"--skip {sorted(unknown)}; accepted: {', '.join(ENDPOINTS)}")
    endpoints = {k: v for k, v in ENDPOINTS.items() if k not in skipped}

    if options.keep_schema and options.store.startswith("duckdb"):
        parser.error("--keep-schema needs a postgresql:// --store")
    company = company_store(options.store, options.size, options.keep_schema)
    with company as url, tempfile.TemporaryDirectory() as folder:
        server = Server(
            url, log_path=Path(folder) / "serve.log", workers=options.workers
        )
        server.start()
        try:
            print(machine_note(server))
            warm = asyncio.run(warm_up_workers(server.url, endpoints, options.workers))
            print(
                "warm-up, one request each (s): "
                + ", ".join(f"{name} {s:.2f}" for name, s in warm.items())
            )
            cpu = server.cpu_seconds()
            results, elapsed = asyncio.run(
                hammer(
                    server.url,
                    endpoints,
                    clients=options.clients,
                    seconds=options.seconds,
                    max_requests=options.max_requests,
                )
            )
            cpu = server.cpu_seconds() - cpu
        finally:
            server.stop()
    print(f"{options.clients} clients, closed loop, no think time")
    met = print_latencies(results, elapsed)
    print(
        f"server CPU {cpu:.1f} s over {elapsed:.0f} s ({os.cpu_count()} cores); "
        f"load average now {os.getloadavg()[0]:.1f}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
