"""The demo: a synthetic bank exported to files, imported like a user's, reported."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from excx.ingest import ImportReport, import_file
from excx.linkage.link import LinkageReport, link
from excx.report.data import collect
from excx.report.html import write_report
from excx.store import Store
from excx.synth import Truth, generate, write_files

__all__ = ["DemoRun", "run_demo", "IMPORT_ORDER"]

log = logging.getLogger("excx")

# Units first: responses and outcomes refer to them.
IMPORT_ORDER = ("units", "employee-responses", "customer-responses", "outcomes")


@dataclass(frozen=True)
class DemoRun:
    """What :func:`run_demo` did.

    Attributes
    ----------
    files
        Import target to the CSV file written.
    imports
        One :class:`excx.ingest.ImportReport` per file, in import order.
    summary
        :func:`excx.report.kpi_summary` of the store after the import.
    report
        The ``index.html`` written.
    truth
        The synthetic company's :class:`excx.synth.Truth`.
    seconds
        Wall-clock seconds per step (``generate``, ``files``, ``import``,
        ``report``) and ``total``.
    """

    files: dict[str, Path]
    imports: list[ImportReport]
    summary: pd.DataFrame
    report: Path
    truth: Truth
    linkage: LinkageReport
    seconds: dict[str, float] = field(default_factory=dict)


def run_demo(
    store: Store,
    *,
    out: str | Path = "excx-report",
    data: str | Path = "demo-data",
    size: str = "medium",
    seed: int = 0,
    on_step: Callable[[str], None] | None = None,
) -> DemoRun:
    """Generate a synthetic bank, import its CSV files into `store`, write the report.

    Parameters
    ----------
    store
        An open store; initialised here if needed. Files already imported (same
        bytes, same target) are skipped, so running the demo twice is safe.
    out
        Folder of the HTML report.
    data
        Folder of the CSV files (the user's exports, as it were).
    size, seed
        Passed to :func:`excx.synth.generate`.
    on_step
        Called with a short description before each step.

    Returns
    -------
    DemoRun

    Notes
    -----
    The files go through :func:`excx.ingest.import_file` with the generic profile,
    exactly the path a user's files take; the figures come from
    :mod:`excx.metrics` through :func:`excx.report.collect`.

    Examples
    --------
    >>> import excx, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> store = excx.connect(f"duckdb://{folder / 'demo.duckdb'}")
    >>> run = run_demo(store, out=folder / "report", data=folder / "data",
    ...                size="small")
    >>> run.report.name, len(run.imports)
    ('index.html', 4)
    """
    step = on_step or (lambda _: None)
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    step(f"generating the {size} synthetic bank (seed {seed})")
    company = generate(size, seed=seed)
    seconds["generate"] = time.perf_counter() - started
    step(f"writing CSV files to {data}")
    files = write_files(company, data, format="csv")
    seconds["files"] = time.perf_counter() - started - sum(seconds.values())

    store.init()
    imports = []
    for target in IMPORT_ORDER:
        step(f"importing {files[target].name} as {target}")
        imports.append(import_file(store, target, files[target]))
    seconds["import"] = time.perf_counter() - started - sum(seconds.values())

    step(f"computing the figures and writing the report to {out}")
    figures = collect(store)
    step("estimating the link from eNPS to NPS and revenue")
    linkage = link(store)
    report = write_report(store, out, data=figures, linkage=linkage)
    seconds["report"] = time.perf_counter() - started - sum(seconds.values())
    seconds["total"] = time.perf_counter() - started
    log.info("demo finished in %.1f s", seconds["total"])
    return DemoRun(
        files, imports, figures.summary, report, company.truth, linkage, seconds
    )
