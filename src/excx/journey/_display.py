"""Tables for the ``excx journey`` and ``excx channels`` commands."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table

__all__ = ["print_frame"]


def print_frame(frame: pd.DataFrame, title: str) -> None:
    """Print `frame` as a rich table, at least 120 columns wide; nulls blank."""
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*["" if pd.isna(v) else _text(v) for v in row])
    Console(width=max(Console().width, 120)).print(table)


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)
