"""Argument checks shared by the linkage modules.

Each raises an excx error that says which argument was wrong and what would be
accepted.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from excx.errors import InputError, PrivacyError
from excx.privacy import PrivacyRule


def _require_columns(data: Any, columns: dict[str, str]) -> None:
    """Raise InputError unless every column named in ``columns`` is in ``data``.

    ``columns`` maps the argument name to the column name it gave.
    """
    if not isinstance(data, pd.DataFrame) and not hasattr(data, "group_by"):
        raise InputError(
            f"data: expected a pandas DataFrame or an Ibis table, got "
            f"{type(data).__name__}"
        )
    present = list(data.columns)
    for argument, column in columns.items():
        if column not in present:
            raise InputError(
                f"{argument}={column!r}: no such column in data; columns are {present}"
            )


def _require_units(n_units: int, what: str) -> None:
    if n_units < 3:
        raise InputError(
            f"{what}: needs at least 3 units (groups) with answers, got {n_units}"
        )


def _check_min_group_size(min_group_size: int) -> int:
    """The privacy threshold, checked by the privacy rule (floor of 3)."""
    try:
        return PrivacyRule(min_n=min_group_size).min_n
    except PrivacyError as error:
        raise PrivacyError(f"min_group_size: {error}") from None
