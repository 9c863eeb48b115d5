"""The ``excx`` command: a thin shell over the library.

Every command takes ``--store URL`` (or the ``EXCX_STORE`` environment variable); a
known error prints ``Name: message`` and exits 1.
"""

from __future__ import annotations

import functools
import logging
import warnings
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import excx
from excx.errors import ExcxError, ExcxWarning

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Measure how employee experience drives customer experience. Every "
    "command takes --store URL (or EXCX_STORE); the default store is "
    "excx.duckdb in the working directory.",
)
console = Console()
err_console = Console(stderr=True)

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="EXCX_STORE",
        help="Store URL: duckdb://FILE or postgresql://… (default duckdb://excx.duckdb).",
    ),
]


def known_errors(command):
    """Turn excx's own errors into one line on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ExcxWarning)
                result = command(*args, **kwargs)
            for warning in caught:
                if issubclass(warning.category, ExcxWarning):
                    name = warning.category.__name__
                    err_console.print(f"[yellow]{name}[/]: {warning.message}")
            return result
        except ExcxError as exc:
            name = type(exc).__name__
            err_console.print(f"[bold red]{name}[/]: {exc}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log I/O.")] = False,
) -> None:
    """Measure how employee experience drives customer experience."""
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")


@app.command()
@known_errors
def init(store: StoreOption = None) -> None:
    """Create the canonical tables (safe to run again)."""
    with excx.connect(store) as opened:
        opened.init()
        console.print(f"store ready: {opened.url}")


class ImportTarget(StrEnum):
    """What a file holds; each maps onto canonical tables."""

    units = "units"
    employee_responses = "employee-responses"
    customer_responses = "customer-responses"
    outcomes = "outcomes"


class ImportProfile(StrEnum):
    """The layout of the file's columns."""

    generic = "generic"
    qualtrics = "qualtrics"


@app.command("import")
@known_errors
def import_(
    target: Annotated[ImportTarget, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(help="A .csv, .xlsx or .parquet file.")],
    profile: Annotated[
        ImportProfile, typer.Option(help="Column layout of the file.")
    ] = ImportProfile.generic,
    mapping: Annotated[
        Path | None, typer.Option(help="TOML mapping of columns and answer labels.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and report; write nothing.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Validate a file and add its rows to the store, all or nothing, once."""
    from rich.progress import Progress

    from excx.ingest import import_file

    bar = Progress(console=err_console, transient=True)
    with excx.connect(store) as opened, bar:
        task = bar.add_task("importing", total=4)

        def advance(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        report = import_file(
            opened,
            target.value,
            file,
            profile=profile.value,
            mapping=mapping,
            dry_run=dry_run,
            progress=advance,
        )
    if report.skipped_as_already_imported:
        console.print(
            f"{file} was already imported as {target.value} on "
            f"{report.already_imported_at:%Y-%m-%d %H:%M} UTC; nothing added"
        )
        return
    verb = "would add" if report.dry_run else "added"
    items = f" and {report.items_written} item answers" if report.items_written else ""
    console.print(
        f"{file}: {report.rows_read} rows valid; {verb} "
        f"{report.rows_written if not report.dry_run else report.rows_read} rows"
        f"{items} ({report.elapsed_seconds:.2f} s)"
    )


class DemoSize(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"


@app.command()
@known_errors
def demo(
    store: StoreOption = None,
    out: Annotated[Path, typer.Option(help="Folder of the HTML report.")] = Path(
        "excx-report"
    ),
    size: Annotated[DemoSize, typer.Option(help="Size of the bank.")] = DemoSize.medium,
    data: Annotated[Path, typer.Option(help="Folder for the CSV files.")] = Path(
        "demo-data"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic bank.")] = 0,
) -> None:
    """Generate a synthetic bank, import its files, print KPIs, write a report.

    The files go through the same import path as a user's; the store is the usual
    one (excx.duckdb here unless --store or EXCX_STORE says otherwise), so
    `excx metrics` and `excx link` work on the demo data afterwards.
    """
    import pandas as pd
    from rich.table import Table

    from excx.report.demo import run_demo

    data.mkdir(parents=True, exist_ok=True)
    with excx.connect(store) as opened:
        run = run_demo(
            opened,
            out=out,
            data=data,
            size=size.value,
            seed=seed,
            on_step=lambda text: err_console.print(f"[dim]{text}…[/]"),
        )
    for imported in run.imports:
        verb = (
            "skipped, already imported"
            if imported.skipped_as_already_imported
            else f"{imported.rows_written:,} rows, {imported.items_written:,} items"
        )
        console.print(f"  {imported.target}: {verb}")

    table = Table(title="Key figures (95% intervals)")
    for column in ("KPI", "value", "interval", "n", "scale"):
        justify = "left" if column in ("KPI", "scale") else "right"
        table.add_column(column, justify=justify)
    for row in run.summary.itertuples(index=False):
        shown = not row.suppressed and row.value == row.value
        digits = 2 if row.kpi == "ces" else 1
        status = "suppressed" if row.suppressed else "no answers"
        table.add_row(
            row.label,
            f"{row.value:.{digits}f}" if shown else status,
            f"{row.ci_low:.{digits}f} to {row.ci_high:.{digits}f}" if shown else "",
            f"{row.n:,}",
            row.scale,
        )
    console.print(table)
    estimates = run.linkage.estimates.set_index(["model", "term"])
    corrected = ("fixed_effects_corrected", "enps_lag1")
    if corrected in estimates.index and pd.notna(estimates.loc[corrected, "estimate"]):
        row = estimates.loc[corrected]
        console.print(
            f"lagged effect of eNPS on NPS, corrected for sampling error: "
            f"{row['estimate']:.3f} ({row['ci_low']:.3f} to {row['ci_high']:.3f}) "
            f"NPS points per eNPS point"
        )
    console.print(
        f"true lagged effect built in: {run.truth.enps_to_nps:.3f} NPS points per "
        "eNPS point"
    )
    for line in run.effect_lines():
        console.print(line)
    steps = ", ".join(f"{name} {seconds:.1f}" for name, seconds in run.seconds.items())
    console.print(f"report: {run.report}  (seconds: {steps})")


class LinkFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
@known_errors
def link(
    store: StoreOption = None,
    period: Annotated[
        str, typer.Option(help="Panel grain: month or quarter.")
    ] = "month",
    lag: Annotated[int, typer.Option(help="Periods from driver to outcome.")] = 1,
    control: Annotated[
        list[str] | None,
        typer.Option(help="Panel column used as a control (repeatable)."),
    ] = None,
    boot: Annotated[int, typer.Option(help="Cluster-bootstrap draws.")] = 2000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    level: Annotated[float, typer.Option(help="Interval level.")] = 0.95,
    output: Annotated[
        LinkFormat, typer.Option("--format", help="table or json.")
    ] = LinkFormat.table,
) -> None:
    """Estimate the link from employee eNPS to customer NPS and revenue."""
    import json

    from rich.table import Table

    from excx.linkage.link import link as run_link

    with excx.connect(store) as opened:
        report = run_link(
            opened,
            period=period,
            lag=lag,
            n_boot=boot,
            seed=seed,
            level=level,
            controls=tuple(control or ()),
        )
    estimates = report.estimates
    if output is LinkFormat.json:
        rows = json.loads(estimates.to_json(orient="records"))
        document = {
            "estimates": rows,
            "readings": report.readings(),
            "timings": report.timings,
        }
        print(json.dumps(document, indent=2))
        return

    title = f"Linkage: {period} panel, lag {lag}, {level:.0%} intervals"
    table = Table(title=title)
    for column in ("model", "term", "estimate", "interval", "p", "units"):
        left = column in ("model", "term")
        table.add_column(column, justify="left" if left else "right", no_wrap=True)
    for row in estimates.itertuples(index=False):
        if row.reason:
            table.add_row(row.model, row.term, "no estimate", "", "", "")
            continue
        table.add_row(
            row.model,
            row.term,
            f"{row.estimate:,.3g}",
            f"{row.ci_low:,.3g} to {row.ci_high:,.3g}",
            f"{row.p_value:.2g}",
            f"{row.n_units}",
        )
    Console(width=max(console.width, 120)).print(table)
    for row in estimates[estimates["reason"].notna()].itertuples(index=False):
        console.print(f"[bold]{row.model}[/]: no estimate: {row.reason}")
    for reading in report.readings():
        console.print(f"• {reading}")


@app.command()
@known_errors
def drivers(
    store: StoreOption = None,
    outcome: Annotated[str, typer.Option(help="nps or enps.")] = "nps",
    method: Annotated[
        str, typer.Option(help="relative_weights or shapley.")
    ] = "relative_weights",
    boot: Annotated[int, typer.Option(help="Bootstrap draws.")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
) -> None:
    """Which engagement items go with unit NPS or unit eNPS (key drivers)."""
    from rich.table import Table

    from excx.linkage.item_drivers import item_drivers

    with excx.connect(store) as opened:
        result = item_drivers(
            opened, outcome=outcome, method=method, n_boot=boot, seed=seed
        )
    if result.empty:
        console.print("no employee items in the store")
        return
    r2 = result["r2"].iloc[0]
    table = Table(title=f"Key drivers of unit {outcome} ({method}, R² {r2:.2f})")
    for column in ("item", "weight", "share", "95% interval", "units"):
        table.add_column(column, justify="left" if column == "item" else "right")
    for row in result.itertuples(index=False):
        table.add_row(
            row.driver,
            f"{row.weight:.3f}",
            f"{row.share:.0%}",
            f"{row.ci_low:.3f} to {row.ci_high:.3f}",
            f"{row.n}",
        )
    console.print(table)


# Sub-apps defined beside their library: importing each adds it to `app`. They use
# StoreOption and known_errors from this module, so they are imported last.
import excx.api.commands  # noqa: E402, F401  (excx serve, excx user …)
import excx.channels.commands  # noqa: E402, F401  (excx channels …)
import excx.journey.commands  # noqa: E402, F401  (excx journey …)
import excx.metrics.commands  # noqa: E402, F401  (excx metrics …)
