"""The demo: a synthetic bank exported to files, imported like a user's, reported."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from excx.channels.interactions import import_interactions
from excx.channels.synth import HandoffTruth
from excx.ingest import ImportReport, import_file
from excx.journey import programme
from excx.journey.synth import INITIATIVE_ID, ProgrammeTruth
from excx.linkage.link import LinkageReport, link
from excx.report import demo_programme
from excx.report.channels import handoff_with_notes, write_human_touch_page
from excx.report.data import collect
from excx.report.html import write_report
from excx.report.journey import activity_effects, write_journey_page
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
    linkage
        :func:`excx.linkage.link.link` on the store after the import.
    pilot, handoff
        The programme's activity with a set effect and the bot-to-human
        hand-off with a set cost (see :mod:`excx.report.demo_programme`).
    effects
        Their estimates, rows ``pilot_enps`` (difference in differences, eNPS
        points) and ``handoff`` (NPS points; negative is a loss): ``term,
        estimate, ci_low, ci_high``.
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
    pilot: ProgrammeTruth
    handoff: HandoffTruth
    effects: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)

    def effect_lines(self) -> list[str]:
        """Each estimate of :attr:`effects`, then the effect the demo set."""
        built_in = {
            "pilot_enps": ("pilot effect on eNPS, difference in differences",
                           self.pilot.enps_effect),
            "handoff": ("bot-to-human hand-off effect on NPS",
                        -self.handoff.handoff_cost),
        }  # fmt: skip
        lines = []
        for row in self.effects.itertuples(index=False):
            text, truth = built_in[row.term]
            lines.append(
                f"{text}: {row.estimate:+.1f} ({row.ci_low:+.1f} to {row.ci_high:+.1f})"
            )
            lines.append(f"  built in: {truth:+.1f}")
        return lines


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
    journey = demo_programme.plan(company, seed=seed)
    seconds["generate"] = time.perf_counter() - started
    step(f"writing CSV files to {data}")
    files = write_files(company, data, format="csv", scores=journey.scores)
    files["interactions"] = demo_programme.write_interactions(journey, data)
    seconds["files"] = time.perf_counter() - started - sum(seconds.values())

    store.init()
    imports = []
    for target in IMPORT_ORDER:
        step(f"importing {files[target].name} as {target}")
        imports.append(import_file(store, target, files[target]))
    _add_programme(store, company, journey, files["interactions"], seed, step)
    seconds["import"] = time.perf_counter() - started - sum(seconds.values())

    step(f"computing the figures and writing the report to {out}")
    figures = collect(store)
    step("estimating the link from eNPS to NPS and revenue")
    linkage = link(store)
    step("estimating the programme's effects and the cost of a bot hand-off")
    activities = activity_effects(store, INITIATIVE_ID)
    handoff = handoff_with_notes(store)
    step("writing the Engagement Journey and human-touch pages")
    journey_page = write_journey_page(store, INITIATIVE_ID, out, effects=activities)
    human_page = write_human_touch_page(store, out, handoff=handoff)
    pages = [
        (journey_page.name, "The Engagement Journey"),
        (human_page.name, "Human touch and omnichannel"),
    ]
    effects = _known_effects(activities[0], handoff[0], journey.pilot)
    report = write_report(store, out, data=figures, linkage=linkage, pages=pages)
    seconds["report"] = time.perf_counter() - started - sum(seconds.values())
    seconds["total"] = time.perf_counter() - started
    log.info("demo finished in %.1f s", seconds["total"])
    return DemoRun(
        files,
        imports,
        figures.summary,
        report,
        company.truth,
        linkage,
        journey.pilot,
        journey.handoff,
        effects,
        seconds,
    )


def _add_programme(store, company, journey, interactions_file, seed, step) -> None:
    """Import the interaction log and store the programme, unless an earlier run
    of the demo did."""
    if not store.count("interactions"):
        step(f"importing {interactions_file.name} (customer journeys)")
        import_interactions(store, interactions_file)
    known = programme.initiatives(store)["initiative_id"]
    if INITIATIVE_ID not in set(known):
        step("storing the Engagement Journey programme")
        demo_programme.record(store, company, journey.pilot, seed=seed)


def _known_effects(
    activities: pd.DataFrame, handoff: pd.DataFrame | None, pilot: ProgrammeTruth
) -> pd.DataFrame:
    """The estimates of the effects the demo set (see :class:`DemoRun`)."""
    columns = ["term", "estimate", "ci_low", "ci_high"]
    if handoff is None:  # the model could not be fitted: the page says why
        handoff = pd.DataFrame(columns=columns)
    pilot_row = activities[
        (activities["activity_id"] == pilot.activity_id)
        & (activities["outcome"] == "enps")
        & (activities["term"] == "did")
    ].assign(term="pilot_enps")
    return pd.concat(
        [pilot_row[columns], handoff.loc[handoff["term"] == "handoff", columns]],
        ignore_index=True,
    )
