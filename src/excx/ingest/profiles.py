"""Profiles and mappings: how a tool's columns and answer labels become canonical.

A profile is a built-in :class:`Mapping`; a TOML mapping file adds to it or
overrides it. The mapping file has four optional parts::

    ignore = ["IPAddress", "Progress"]     # source columns to drop

    [columns]                              # source column = canonical column
    "Probabilità di raccomandarci" = "nps"
    "Filiale" = "unit_id"

    [values.nps]                           # answer label = stored value
    "10 - Estremamente probabile" = 10
    "0 - Per niente probabile" = 0

    [constants]                            # canonical column absent from the file
    channel = "store"

``[values.X]`` is keyed by the canonical column name (after ``[columns]``), so
``[values.item_pride]`` relabels an item column too.

Profiles
--------
``generic``
    Canonical column names as they are; ``item_<item_id>`` columns are items.
``qualtrics``
    The CSV export of Qualtrics ("Download data", choice text or numeric values):
    a header row, a row of question texts and a row of ``{"ImportId": ...}`` JSON,
    so responses start on row 4. ``ResponseId`` becomes ``response_id``,
    ``RecordedDate`` (or ``EndDate`` when there is no ``RecordedDate``) becomes
    ``submitted_at``. Qualtrics' metadata columns (``StartDate``, ``EndDate``,
    ``Status``, ``IPAddress``, ``Progress``, ``Duration (in seconds)``,
    ``Finished``, ``Recipient*``, ``ExternalReference``, ``Location*``,
    ``DistributionChannel``, ``UserLanguage``) and the computed ``*_NPS_GROUP``
    columns are dropped: personal data such as IP address, e-mail and location is
    never stored. Every other column must already carry a canonical name (set the
    question export tags or embedded data names so) or be mapped in a TOML file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from excx.errors import InputError

__all__ = ["Mapping", "PROFILES", "profile", "load_mapping"]

_QUALTRICS_DROPPED = (
    "StartDate",
    "Status",
    "IPAddress",
    "Progress",
    "Duration (in seconds)",
    "Finished",
    "RecipientLastName",
    "RecipientFirstName",
    "RecipientEmail",
    "ExternalReference",
    "LocationLatitude",
    "LocationLongitude",
    "DistributionChannel",
    "UserLanguage",
)


@dataclass(frozen=True)
class Mapping:
    """How source columns and labels become canonical columns and values.

    Attributes
    ----------
    columns
        Source column name to canonical column name.
    values
        Canonical column name to {answer label: stored value}.
    constants
        Canonical column name to the value every row gets.
    ignore
        Source columns that are dropped.
    ignore_suffixes
        Source columns ending with one of these are dropped.
    header_rows
        Rows before the data, counting the header row (3 for Qualtrics).
    """

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    ignore_suffixes: tuple[str, ...] = ()
    header_rows: int = 1

    def merged(self, other: Mapping) -> Mapping:
        """Return this mapping with `other` added on top (other wins)."""
        values = {k: dict(v) for k, v in self.values.items()}
        for column, labels in other.values.items():
            values.setdefault(column, {}).update(labels)
        return Mapping(
            columns={**self.columns, **other.columns},
            values=values,
            constants={**self.constants, **other.constants},
            ignore=self.ignore + other.ignore,
            ignore_suffixes=self.ignore_suffixes + other.ignore_suffixes,
            header_rows=self.header_rows,
        )

    def is_ignored(self, source: str) -> bool:
        """True when the source column is dropped."""
        if source in self.columns:
            return False
        return source in self.ignore or source.endswith(self.ignore_suffixes)


PROFILES: dict[str, Mapping] = {
    "generic": Mapping(),
    "qualtrics": Mapping(
        columns={"ResponseId": "response_id", "RecordedDate": "submitted_at"},
        ignore=_QUALTRICS_DROPPED,
        ignore_suffixes=("_NPS_GROUP",),
        header_rows=3,
    ),
}


def profile(name: str, header: list[str] | None = None) -> Mapping:
    """Return the built-in profile `name`, adapted to the file's `header`.

    For ``qualtrics``, ``EndDate`` stands in for ``RecordedDate`` when the export
    has no ``RecordedDate`` column.
    """
    try:
        base = PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise InputError(f"unknown profile {name!r}; accepted: {known}") from None
    if name == "qualtrics" and header is not None:
        if "RecordedDate" not in header and "EndDate" in header:
            columns = {**base.columns, "EndDate": "submitted_at"}
            return Mapping(**{**base.__dict__, "columns": columns})
        return Mapping(**{**base.__dict__, "ignore": base.ignore + ("EndDate",)})
    return base


def load_mapping(path: str | Path) -> Mapping:
    """Read a TOML mapping file (see the module docstring for its layout).

    Raises
    ------
    InputError
        If the file cannot be read or has parts this format does not know.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(f"cannot read mapping file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"mapping file {path} is not valid TOML: {exc}") from exc

    unknown = set(raw) - {"columns", "values", "constants", "ignore"}
    if unknown:
        raise InputError(
            f"mapping file {path}: unknown part(s) {sorted(unknown)}; accepted: "
            "[columns], [values.<column>], [constants], ignore = [...]"
        )
    columns = _str_table(path, "columns", raw.get("columns", {}))
    constants = _str_table(path, "constants", raw.get("constants", {}))
    values_raw = raw.get("values", {})
    if not isinstance(values_raw, dict):
        raise InputError(f"mapping file {path}: [values] must hold [values.<column>]")
    values = {
        column: _str_table(path, f"values.{column}", labels)
        for column, labels in values_raw.items()
    }
    ignore = raw.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(c, str) for c in ignore):
        raise InputError(f"mapping file {path}: ignore must be a list of column names")
    return Mapping(columns, values, constants, tuple(ignore))


def _str_table(path: Path, part: str, table: object) -> dict[str, str]:
    """Check one TOML table of scalars and return it with values as text."""
    if not isinstance(table, dict):
        raise InputError(f"mapping file {path}: [{part}] must be a table of pairs")
    out = {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise InputError(
                f"mapping file {path}: [{part}] {key!r} = {value!r}; accepted: "
                "a text or a number"
            )
        out[key] = str(value)
    return out
