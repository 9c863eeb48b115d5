"""Survey submissions per second against ``excx serve`` on PostgreSQL, then a count.

Run: ``.venv/bin/python benchmarks/load_surveys.py [--store URL] [--seconds 60]
[--rate 500] [--workers 2] [--pulse-share 0.5] [--replay-share 0.02]``.

What it does
------------
1. Takes a scratch store: for a PostgreSQL ``--store`` (default: the test server
   ``postgresql://postgres@127.0.0.1:55432/excx_test``) a fresh schema reached
   through ``options=-csearch_path%3D…`` and dropped at the end; for a
   ``duckdb://`` URL (only with ``--workers 1``) a file in a temporary directory.
2. Writes 20 branches and an admin there, starts ``excx serve --workers N`` as
   a subprocess on 127.0.0.1 and a free port with a generated
   ``EXCX_SECRET_KEY``, creates a pulse survey and a customer survey through the
   REST API, issues the pulse tokens and the signed customer links the run needs.
3. Fires form POSTs to ``/s/pulse/{token}`` and ``/s/cx/{link}`` open-loop:
   ``rate × seconds`` first submissions spread evenly over ``--seconds``, and
   after each, with probability ``--replay-share``, a resend of an earlier
   credential (a reused token or an answered interaction), which must be refused
   (410 / 409). The load generator (:mod:`http_load`) builds every request
   before the clock starts and keeps ``--concurrency`` (32) keep-alive
   connections, one request in flight on each; it reads every answer whole and
   counts a submission as acknowledged only when it is a 200 thank-you page.
   The hidden ``form_token`` is derived from the secret as the page would carry
   it, so each submission is one POST. Each comment carries a marker naming the
   credential and the attempt.
4. Stops the server and counts in the store: every acknowledged submission is
   stored (``lost`` = acknowledged markers not found), no credential is stored
   twice (``duplicated``), the used-token count equals the stored pulse answers
   and ``survey_interactions`` equals the stored customer answers.

Printed: achieved rate, latency p50/p95/p99 (send to full answer), status
counts, errors, CPU of the server (all its processes) and of the load generator,
and the verdict. Exit status 1 when an answer was lost or duplicated, or when
the rate was not reached: fewer than ``rate × seconds`` first submissions
acknowledged (the sender falls behind, and sends fewer within ``--seconds``,
when the server cannot keep up).

Each server worker holds ``--pool-size`` (8) store connections. Figures and the
machine they were measured on: ``benchmarks/README.md``.

This module also holds the harness that ``load_dashboard.py`` and
``durability_kill9.py`` import: :func:`scratch_store`, :class:`Server`,
:func:`fire` and :func:`verify`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx2
import numpy as np
import pyarrow as pa

import excx
from excx.api.pages import TEXTS
from excx.api.security import derive
from excx.api.users import add_user

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_load import Outcome, fire  # noqa: E402  (beside this script)

DEFAULT_STORE = "postgresql://postgres@127.0.0.1:55432/excx_test"
ADMIN, PASSWORD = "load_admin", "load-password-1"
PULSE, CX = "load-pulse", "load-cx"
UNITS = [f"LOAD-B{n:03d}" for n in range(1, 21)]
# Requests in flight: one per keep-alive connection of the load generator.
IN_FLIGHT = 32
# Customer links per API call: 500 interactions stay under the 64 KiB body limit.
LINKS_PER_CALL = 500
# What an acknowledged answer's page says (no Accept-Language: English).
THANKS = TEXTS["en"]["thanks"].encode()


# --------------------------------------------------------------------------- store


@contextlib.contextmanager
def scratch_store(base: str) -> Iterator[str]:
    """A URL of an empty store that is thrown away afterwards.

    PostgreSQL: a new schema on `base`'s database, dropped at the end (as
    ``tests/conftest.py`` does). DuckDB: a file in a temporary directory.
    """
    if base.startswith("duckdb"):
        with tempfile.TemporaryDirectory(prefix="excx-load-") as folder:
            yield f"duckdb://{Path(folder) / 'excx.duckdb'}"
        return

    import psycopg

    schema = f"load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def prepare_store(url: str, *, tables: dict[str, pa.Table] | None = None) -> None:
    """Create the tables, write `tables` (default: 20 branches) and the admin."""
    if tables is None:
        tables = {
            "units": pa.table(
                {"unit_id": UNITS, "name": UNITS, "kind": ["branch"] * len(UNITS)}
            )
        }
    with excx.connect(url) as store:
        store.init()
        store.write(tables)
        add_user(store, ADMIN, PASSWORD, role="admin")


def postgres_settings(url: str) -> str:
    """``synchronous_commit`` and ``fsync`` of the server, for the printout."""
    if url.startswith("duckdb"):
        return "DuckDB file store"
    import psycopg

    with psycopg.connect(url) as con:
        values = [
            con.execute(f"SHOW {k}").fetchone()[0]
            for k in ("synchronous_commit", "fsync")
        ]
    return f"PostgreSQL synchronous_commit={values[0]} fsync={values[1]}"


# -------------------------------------------------------------------------- server


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``excx serve`` in a subprocess on 127.0.0.1, restartable on the same port.

    The log (excx's one line per request) goes to `log_path`.
    """

    def __init__(
        self, store_url: str, *, log_path: Path, pool_size: int = 8, workers: int = 1
    ) -> None:
        self.store_url = store_url
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = secrets.token_urlsafe(48)
        self.pool_size = pool_size
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 90.0) -> None:
        """Start the process and wait until ``/healthz`` answers 200."""
        excx_cli = Path(sys.executable).parent / "excx"
        command = [str(excx_cli), "serve", "--store", self.store_url]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--workers", str(self.workers)]
        env = os.environ | {
            "EXCX_SECRET_KEY": self.secret,
            "EXCX_PUBLIC_URL": self.url,
            "EXCX_POOL_SIZE": str(self.pool_size),
        }
        env.pop("EXCX_DEV", None)
        log = self.log_path.open("ab")
        # cwd: an empty folder, so that no stray .env changes the settings.
        self.process = subprocess.Popen(
            command, env=env, stdout=log, stderr=log, cwd=tempfile.gettempdir()
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"excx serve exited; see {self.log_path}")
            with contextlib.suppress(httpx2.HTTPError):
                if httpx2.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"excx serve did not answer in {timeout} s")

    def processes(self) -> list[int]:
        """Process ids of the server and of its uvicorn workers (its children)."""
        found, pending = [], [self.process.pid]
        while pending:
            pid = pending.pop()
            found.append(pid)
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
                pending += [int(child) for child in children.split()]
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU seconds so far of the server and its workers."""
        total = 0
        for pid in self.processes():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(stat[11]) + int(stat[12])
        return total / os.sysconf("SC_CLK_TCK")

    def kill9(self) -> None:
        """SIGKILL of the server and its workers: no shutdown, no flush."""
        for pid in self.processes():  # the supervisor first: it would respawn
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM (uvicorn's graceful shutdown), SIGKILL after 30 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill9()


@contextlib.contextmanager
def admin_client(server: Server) -> Iterator[httpx2.Client]:
    """An httpx2 client logged in as the admin, CSRF header set."""
    with httpx2.Client(base_url=server.url, timeout=120) as client:
        answer = client.post(
            "/api/v1/login", json={"username": ADMIN, "password": PASSWORD}
        )
        answer.raise_for_status()
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        yield client


def create_surveys(server: Server, *, pulses: int, customers: int) -> tuple[list, list]:
    """Create both surveys via the API; `pulses` token paths, `customers` link paths."""
    with admin_client(server) as admin:
        for survey_id, audience, kind in (
            (PULSE, "employee", "pulse"),
            (CX, "customer", "transactional"),
        ):
            items = ["pride", "energy"] if audience == "employee" else []
            body = {
                "survey_id": survey_id,
                "audience": audience,
                "kind": kind,
                "items": items,
            }
            admin.post("/api/v1/surveys", json=body).raise_for_status()

        invitees = {u: 0 for u in UNITS}
        for n in range(pulses):
            invitees[UNITS[n % len(UNITS)]] += 1
        issued = admin.post(f"/api/v1/surveys/{PULSE}/tokens", json={"units": invitees})
        issued.raise_for_status()
        pulse_paths = [
            httpx2.URL(line.split(",")[1]).path for line in issued.text.splitlines()[1:]
        ]

        cx_paths = []
        for first in range(0, customers, LINKS_PER_CALL):
            interactions = [
                {
                    "interaction_id": f"int-{n}",
                    "channel": "store",
                    "served_by": "human",
                    "unit_id": UNITS[n % len(UNITS)],
                }
                for n in range(first, min(first + LINKS_PER_CALL, customers))
            ]
            answer = admin.post(
                f"/api/v1/surveys/{CX}/customer-links",
                json={"interactions": interactions},
            )
            answer.raise_for_status()
            cx_paths += [httpx2.URL(row["link"]).path for row in answer.json()]
    return pulse_paths, cx_paths


# ---------------------------------------------------------------------- submissions


@dataclasses.dataclass(frozen=True)
class Submission:
    """One form POST: a pulse token or a customer link, first try or a resend."""

    kind: str  # "pulse" or "cx"
    path: str
    credential: int  # index of the token / link within its kind
    attempt: int = 0  # 0: first submission; more: a resend of the same credential

    @property
    def marker(self) -> str:
        """The comment sent, by which the stored answer is found again."""
        return f"load {self.kind} {self.credential} {self.attempt}"

    def form(self, secret: str, rng: random.Random) -> dict[str, str]:
        """The fields the page would post, with its anti-forgery token."""
        credential = self.path.rsplit("/", 1)[1]
        fields = {
            "comment": self.marker,
            "form_token": derive(secret, "form", credential),
        }
        if self.kind == "pulse":
            fields |= {
                "enps": rng.randint(0, 10),
                "item_pride": rng.randint(1, 5),
                "item_energy": rng.randint(1, 5),
            }
        else:
            fields |= {
                "nps": rng.randint(0, 10),
                "csat": rng.randint(1, 5),
                "ces": rng.randint(1, 7),
            }
        return {k: str(v) for k, v in fields.items()}


def plan(
    pulse_paths: list[str],
    cx_paths: list[str],
    *,
    count: int,
    pulse_share: float,
    replay_share: float,
    seed: int = 0,
) -> list[Submission]:
    """`count` first submissions mixing pulses and customer answers, and after
    each, with probability `replay_share`, a resend of a credential sent 1-200
    submissions earlier (often still in flight, so the single-use checks race).
    """
    rng = random.Random(seed)
    fresh = {"pulse": iter(enumerate(pulse_paths)), "cx": iter(enumerate(cx_paths))}
    planned: list[Submission] = []
    for _ in range(count):
        kind = "pulse" if rng.random() < pulse_share else "cx"
        taken = next(fresh[kind], None) or next(
            fresh["cx" if kind == "pulse" else "pulse"], None
        )
        if taken is None:
            break
        kind = "pulse" if taken[1].startswith("/s/pulse/") else "cx"
        planned.append(Submission(kind, taken[1], taken[0]))
        if rng.random() < replay_share:
            earlier = planned[-rng.randint(1, min(200, len(planned)))]
            planned.append(dataclasses.replace(earlier, attempt=earlier.attempt + 1))
    return planned


def summarize(outcomes: list[Outcome], elapsed: float) -> dict:
    """Counts, achieved rate and latency percentiles (ms) of answered requests."""
    latencies = np.array([o.seconds for o in outcomes if o.status is not None]) * 1000
    p50, p95, p99 = (
        np.percentile(latencies, [50, 95, 99]) if len(latencies) else (np.nan,) * 3
    )
    acknowledged = sum(o.acknowledged for o in outcomes)
    return {
        "sent": len(outcomes),
        "acknowledged": acknowledged,
        "rate": acknowledged / elapsed if elapsed else 0.0,
        "p50": p50,
        "p95": p95,
        "p99": p99,
        "statuses": Counter(o.status for o in outcomes if o.status is not None),
        "errors": Counter(o.error for o in outcomes if o.error is not None),
        "elapsed": elapsed,
    }


# --------------------------------------------------------------------------- count


def stored_markers(url: str) -> dict:
    """What the store holds for the two load surveys: the marker of every
    stored answer, the used pulse tokens and the answered interactions."""
    from excx.api.db import run

    with excx.connect(url) as store:
        pulse = run(
            store,
            "SELECT comment FROM employee_responses WHERE survey_id = ?",
            (PULSE,),
        )
        cx = run(
            store, "SELECT comment FROM customer_responses WHERE survey_id = ?", (CX,)
        )
        used = run(
            store,
            "SELECT count(*) FROM survey_tokens WHERE survey_id = ? AND used",
            (PULSE,),
        )
        answered = run(
            store, "SELECT count(*) FROM survey_interactions WHERE survey_id = ?", (CX,)
        )
    return {
        "markers": [c for (c,) in pulse + cx],
        "pulse_rows": len(pulse),
        "cx_rows": len(cx),
        "tokens_used": int(used[0][0]),
        "interactions": int(answered[0][0]),
    }


def verify(outcomes: list[Outcome], found: dict) -> dict:
    """Lost, duplicated and unacknowledged-but-stored answers.

    - ``lost``: acknowledged submissions whose marker is not stored;
    - ``duplicated``: credentials stored more than once, plus stored rows
      beyond the used tokens / answered interactions;
    - ``acked_twice``: credentials acknowledged more than once;
    - ``stored_unacknowledged``: stored answers whose request got no 200
      (committed while the answer was in flight, e.g. at a kill -9).
    """
    stored = Counter(found["markers"])
    acked = {o.submission.marker for o in outcomes if o.acknowledged}
    per_credential = Counter(tuple(m.split()[1:3]) for m in stored.elements())
    acked_credentials = Counter(
        (o.submission.kind, str(o.submission.credential))
        for o in outcomes
        if o.acknowledged
    )
    extra_rows = max(0, found["pulse_rows"] - found["tokens_used"]) + max(
        0, found["cx_rows"] - found["interactions"]
    )
    return {
        "stored": sum(stored.values()),
        "lost": len(acked - set(stored)),
        "duplicated": sum(n - 1 for n in per_credential.values() if n > 1) + extra_rows,
        "acked_twice": sum(n - 1 for n in acked_credentials.values() if n > 1),
        "stored_unacknowledged": len(set(stored) - acked),
    }


# ---------------------------------------------------------------------------- main


def machine_note(server: Server) -> str:
    """The conditions every figure is measured under."""
    return (
        f"{os.cpu_count()} cores shared by the server, this load generator and "
        f"whatever else runs (load average {os.getloadavg()[0]:.1f}); excx serve "
        f"--workers {server.workers}, {server.pool_size} store connections per "
        f"worker; {postgres_settings(server.store_url)}"
    )


def print_run(summary: dict, *, target_rate: float | None = None) -> None:
    """The load figures of one run."""
    target = f" (target {target_rate:.0f}/s)" if target_rate else ""
    print(
        f"sent {summary['sent']}, acknowledged {summary['acknowledged']} in "
        f"{summary['elapsed']:.1f} s: {summary['rate']:.0f} submissions/s{target}"
    )
    print(
        f"latency ms: p50 {summary['p50']:.1f}  p95 {summary['p95']:.1f}  "
        f"p99 {summary['p99']:.1f}"
    )
    print(f"HTTP statuses: {dict(sorted(summary['statuses'].items()))}")
    print(f"request errors: {dict(summary['errors']) or 'none'}")


def print_costs(server_cpu: float, own_cpu: float, summary: dict) -> None:
    """CPU per request of the server and of the load generator."""
    per = max(summary["sent"], 1)
    print(
        f"CPU: server {server_cpu:.1f} s ({1000 * server_cpu / per:.1f} ms per "
        f"request), load generator {own_cpu:.1f} s ({1000 * own_cpu / per:.1f} ms "
        f"per request), of {os.cpu_count() * summary['elapsed']:.0f} core-seconds; "
        f"load average now {os.getloadavg()[0]:.1f}"
    )


def print_counts(outcomes: list[Outcome], counted: dict) -> None:
    """Resends and the count in the store."""
    resent = [o for o in outcomes if o.submission.attempt > 0]
    refused = sum(o.status in (409, 410) for o in resent)
    print(
        f"resends of a credential: {len(resent)}, refused {refused}, acknowledged "
        f"{sum(o.acknowledged for o in resent)} (only when racing a first try that "
        "was then refused)"
    )
    print(
        f"in the store: {counted['stored']} answers; lost {counted['lost']}, "
        f"duplicated {counted['duplicated']}, acknowledged twice "
        f"{counted['acked_twice']}, stored without acknowledgement "
        f"{counted['stored_unacknowledged']}"
    )


def run_load(url: str, options: argparse.Namespace, folder: Path) -> tuple:
    """Start the server, set the surveys up, fire, stop; print the figures.
    Returns the outcomes and their summary."""
    count = int(options.rate * options.seconds)
    server = Server(
        url,
        log_path=folder / "serve.log",
        pool_size=options.pool_size,
        workers=options.workers,
    )
    server.start()
    try:
        started = time.perf_counter()
        pulse_paths, cx_paths = create_surveys(
            server,
            pulses=int(count * options.pulse_share * 1.05) + 10,
            customers=int(count * (1 - options.pulse_share) * 1.05) + 10,
        )
        print(
            f"setup: {len(pulse_paths)} pulse tokens, {len(cx_paths)} customer "
            f"links via the API in {time.perf_counter() - started:.1f} s"
        )
        print(machine_note(server))
        submissions = plan(
            pulse_paths,
            cx_paths,
            count=count,
            pulse_share=options.pulse_share,
            replay_share=options.replay_share,
        )
        server_cpu, own_cpu = server.cpu_seconds(), time.process_time()
        outcomes, elapsed = asyncio.run(
            fire(
                server.url,
                submissions,
                secret=server.secret,
                rate=len(submissions) / options.seconds,
                seconds=options.seconds,
                concurrency=options.concurrency,
                thanks=THANKS,
            )
        )
        server_cpu = server.cpu_seconds() - server_cpu
        own_cpu = time.process_time() - own_cpu
    finally:
        server.stop()
    summary = summarize(outcomes, elapsed)
    print_run(summary, target_rate=options.rate)
    print_costs(server_cpu, own_cpu, summary)
    return outcomes, summary


def verdict(summary: dict, counted: dict, options: argparse.Namespace) -> bool:
    """Print what failed, if anything; True when the run passed.

    The rate is reached when every one of the ``rate × seconds`` first
    submissions scheduled within ``--seconds`` was acknowledged (the sender
    falls behind, and sends fewer, when the server cannot keep up).
    """
    scheduled = int(options.rate * options.seconds)
    problems = []
    if counted["lost"] or counted["duplicated"] or counted["acked_twice"]:
        problems.append("answers lost or duplicated")
    if summary["acknowledged"] < scheduled:
        problems.append(
            f"rate not reached: {summary['acknowledged']} of {scheduled} scheduled "
            f"answers acknowledged in {options.seconds:.0f} s "
            f"({summary['acknowledged'] / options.seconds:.0f}/s of "
            f"{options.rate:.0f}/s)"
        )
    for problem in problems:
        print(f"FAIL: {problem}")
    if not problems:
        print(
            f"OK: {options.rate:.0f}/s for {options.seconds:.0f} s, 0 lost, "
            "0 duplicated"
        )
    return not problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default=DEFAULT_STORE)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--pulse-share", type=float, default=0.5)
    parser.add_argument("--replay-share", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, default=IN_FLIGHT)
    parser.add_argument("--pool-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()

    with scratch_store(options.store) as url, tempfile.TemporaryDirectory() as folder:
        prepare_store(url)
        outcomes, summary = run_load(url, options, Path(folder))
        counted = verify(outcomes, stored_markers(url))
    print_counts(outcomes, counted)
    return 0 if verdict(summary, counted, options) else 1


if __name__ == "__main__":
    sys.exit(main())
