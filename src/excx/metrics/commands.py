"""``excx metrics KPI``: a KPI per group with its interval, as a table, JSON or CSV.

A thin shell over :func:`excx.metrics.compute`; employee KPIs come back through
the privacy gate. Importing this module adds the command to :data:`excx.cli.app`
(``excx.cli`` imports it at its end).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

import excx
import excx.metrics
from excx.cli import StoreOption, app, console, err_console, known_errors
from excx.errors import InputError


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
    if output not in ("table", "json", "csv"):
        raise InputError(f"--format {output!r}; accepted: table, json, csv")
    groups = tuple(d.strip() for d in by.split(",") if d.strip())
    with excx.connect(store) as opened:
        frame = excx.metrics.compute(
            opened, kpi, by=groups, period=period, rollup=rollup, ci=ci, level=level
        )
    if len(frame.columns) > len(excx.metrics.OUTPUT_COLUMNS):
        keys = list(frame.columns[: -len(excx.metrics.OUTPUT_COLUMNS)])
        frame = frame.sort_values(keys, na_position="last", ignore_index=True)
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
