"""The ``excx`` command: a thin shell over the library.

Every command takes ``--store URL`` (or the ``EXCX_STORE`` environment variable); a
known error prints ``Name: message`` and exits 1.
"""

from __future__ import annotations

import functools
import logging
from typing import Annotated

import typer
from rich.console import Console

import excx
from excx.errors import ExcxError

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
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
            return command(*args, **kwargs)
        except ExcxError as exc:
            err_console.print(f"[bold red]{type(exc).__name__}[/]: {exc}", highlight=False)
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


@app.command()
@known_errors
def metrics(
    kpi: Annotated[str, typer.Argument(help="nps, enps, csat, ces or engagement.")],
    by: Annotated[
        str,
        typer.Option(help="Any of unit_id,region,channel,served_by,role,period"),
    ] = "",
    period: Annotated[str, typer.Option(help="month, quarter or year.")] = "month",
    rollup: Annotated[bool, typer.Option(help="Units over their subtree.")] = False,
    ci: Annotated[
        str | None,
        typer.Option(help="adjusted-wald, wald, bootstrap (NPS); wilson… (CSAT)."),
    ] = None,
    level: Annotated[float, typer.Option(help="Confidence level.")] = 0.95,
    output: Annotated[str, typer.Option("--format", help="table, json, csv")] = "table",
    store: StoreOption = None,
) -> None:
    """A KPI per group with its confidence interval (employee KPIs privacy-gated)."""
    import excx.metrics
    from excx.errors import InputError

    if output not in ("table", "json", "csv"):
        raise InputError(f"--format {output!r}; accepted: table, json, csv")
    groups = tuple(d.strip() for d in by.split(",") if d.strip())
    with excx.connect(store) as opened:
        frame = excx.metrics.compute(
            opened, kpi, by=groups, period=period, rollup=rollup, ci=ci, level=level
        )
    alpha = frame.attrs.get("cronbach_alpha")
    note = None if alpha is None else f"Cronbach's alpha of the items: {alpha:.3f}"
    if output == "json":
        typer.echo(frame.to_json(orient="records", double_precision=15))
    elif output == "csv":
        typer.echo(frame.to_csv(index=False), nl=False)
    else:
        _print_metrics_table(frame, note)
        note = None
    if note:
        err_console.print(note, highlight=False)


def _print_metrics_table(frame, note: str | None) -> None:
    """Rich table of a metrics frame; suppressed cells read "suppressed"."""
    from rich.table import Table

    table = Table(caption=note)
    for column in frame.columns:
        if column != "suppressed":
            table.add_column(column, justify="right" if column in _NUMERIC else "left")
    for row in frame.to_dict("records"):
        cells = []
        for column, value in row.items():
            if column == "suppressed":
                continue
            if row["suppressed"] and column in ("value", "ci_low", "ci_high"):
                cells.append("suppressed")
            elif value is None or value != value:
                cells.append("–")
            else:
                cells.append(f"{value:.2f}" if isinstance(value, float) else str(value))
        table.add_row(*cells)
    console.print(table)


_NUMERIC = ("n", "value", "ci_low", "ci_high")
