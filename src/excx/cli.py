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
