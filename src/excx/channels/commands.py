"""``excx channels …``: interaction logs, human-touch KPIs, paths, hand-offs.

A thin shell over :mod:`excx.channels`; the statistics load inside the commands
so that ``excx`` starts fast. Importing this module adds the
``channels`` sub-app to :data:`excx.cli.app` (``excx.cli`` imports it at its end).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

import excx
from excx.channels.interactions import import_interactions
from excx.cli import StoreOption, app, console, err_console, known_errors
from excx.errors import ExcxWarning
from excx.journey._display import print_frame

channels_app = typer.Typer(
    no_args_is_help=True,
    help="Omnichannel and human touch: who served, journeys, hand-offs.",
)

_KPI_COLUMNS = ["kpi", "channel", "served_by", "n", "value", "ci_low", "ci_high"]
_TERM_COLUMNS = ["term", "estimate", "ci_low", "ci_high", "p_value", "n", "n_units"]


@channels_app.command("import-interactions")
@known_errors
def import_(
    path: Annotated[Path, typer.Argument(help="CSV or Parquet interaction log.")],
    store: StoreOption = None,
) -> None:
    """Import an interaction log (all rows or none)."""
    with excx.connect(store) as opened:
        written = import_interactions(opened, path)
    console.print(f"{written:,} interaction events imported from {path}")


@channels_app.command("human-touch")
@known_errors
def human_touch_(
    item: Annotated[str, typer.Option(help="Item asking if they prefer a person.")] = (
        "prefers_person"
    ),
    level: Annotated[float, typer.Option(help="Interval level.")] = 0.95,
    store: StoreOption = None,
) -> None:
    """NPS, CSAT and CES by channel and served_by; share preferring a person."""
    from excx.channels import human_touch

    with excx.connect(store) as opened:
        kpis = human_touch.by_channel(opened, level=level)
        preference = human_touch.prefers_person(opened, item=item, level=level)
    print_frame(kpis[_KPI_COLUMNS], f"KPIs by channel and served_by ({level:.0%})")
    if preference.empty:
        console.print(f"no answers to item {item!r}")
        return
    row = preference.iloc[0]
    console.print(
        f"prefer a person: {row['value']:.1f}% ({row['ci_low']:.1f} to "
        f"{row['ci_high']:.1f}) of {row['n']:,} customers"
    )


@channels_app.command()
@known_errors
def paths(
    top: Annotated[int, typer.Option(help="How many paths.")] = 10,
    store: StoreOption = None,
) -> None:
    """The most common journey paths and their NPS."""
    from excx.channels import journeys

    with excx.connect(store) as opened:
        frame = journeys.common_paths(opened, top=top)
    print_frame(frame, f"Top {top} journey paths")


@channels_app.command()
@known_errors
def attributed(store: StoreOption = None) -> None:
    """NPS per unit, answers shared by each unit's share of the journey's steps."""
    from excx.channels import journeys

    with excx.connect(store) as opened:
        frame = journeys.attributed_nps(opened)
    print_frame(frame, "NPS attributed to serving units")


@channels_app.command()
@known_errors
def handoff(
    period: Annotated[str, typer.Option(help="month or quarter.")] = "month",
    level: Annotated[float, typer.Option(help="Interval level.")] = 0.95,
    store: StoreOption = None,
) -> None:
    """NPS cost of a bot-to-human hand-off, and whether engaged units offset it."""
    from excx.channels import human_touch

    with excx.connect(store) as opened, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExcxWarning)
        frame = human_touch.handoff_effect(opened, period=period, level=level)
    print_frame(frame[_TERM_COLUMNS], f"Bot-to-human hand-off ({level:.0%})")
    cost, offset = frame.set_index("term")["estimate"][["handoff", "handoff_x_enps"]]
    console.print(
        f"a hand-off changes NPS by {cost:+.1f} points at the average unit; each "
        f"+10 eNPS points of the unit changes that by {10 * offset:+.1f}"
    )
    for warning in caught:
        if issubclass(warning.category, ExcxWarning):
            err_console.print(
                f"[yellow]{warning.category.__name__}[/]: {warning.message}"
            )


app.add_typer(channels_app, name="channels")
