"""What each import target writes, and how a file's header maps onto it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from excx import schema
from excx.errors import ImportValidationError, InputError
from excx.ingest.parse import literal, quote
from excx.ingest.profiles import Mapping

__all__ = ["Target", "TARGETS", "target", "Columns", "resolve_columns"]

ITEM_PREFIX = "item_"


@dataclass(frozen=True)
class Target:
    """An import target: its canonical table and, for responses, its item table."""

    name: str
    table: str
    items: str | None = None

    @property
    def spec(self) -> schema.Table:
        return schema.table(self.table)

    def accepted(self) -> str:
        """The column names a file for this target may carry."""
        names = ", ".join(self.spec.columns)
        return names + (f", {ITEM_PREFIX}<item_id>" if self.items else "")


TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        Target("units", "units"),
        Target("employee-responses", "employee_responses", "employee_items"),
        Target("customer-responses", "customer_responses", "customer_items"),
        Target("outcomes", "unit_outcomes"),
    ]
}


def target(name: str) -> Target:
    """Return the import target `name`."""
    try:
        return TARGETS[name]
    except KeyError:
        known = ", ".join(TARGETS)
        raise InputError(f"unknown import target {name!r}; accepted: {known}") from None


@dataclass(frozen=True)
class Columns:
    """The canonical columns of one file, as SQL text over the staging view.

    Attributes
    ----------
    texts
        Canonical column to a SQL expression of its text (NULL when blank), with
        answer labels already replaced and constants filled in.
    items
        Item column names (``item_<item_id>``) present in the file.
    natives
        Canonical column to the staged column holding it in its own type, and
        that type (a Parquet number, date or time with no answer labels mapped).
    """

    texts: dict[str, str]
    items: list[str]
    natives: dict[str, tuple[str, str]] = field(default_factory=dict)


def resolve_columns(
    path: Path,
    header: list[str],
    target: Target,
    mapping: Mapping,
    native: dict[int, str] | None = None,
) -> Columns:
    """Map the file's header onto canonical columns.

    `native` gives the position and type of the columns staged in their own
    type as well (see :class:`excx.ingest.readers.Staged`).

    Raises
    ------
    ImportValidationError
        Naming unknown columns, missing required ones, and columns given twice.
    """
    spec = target.spec
    texts: dict[str, str] = {}
    items: list[str] = []
    natives: dict[str, tuple[str, str]] = {}
    problems: list[dict] = []
    for position, source in enumerate(header):
        if mapping.is_ignored(source):
            continue
        canonical = mapping.columns.get(source, source)
        is_item = bool(target.items) and _is_item(canonical)
        if canonical not in spec.columns and not is_item:
            problems.append(_unknown(target, source, canonical))
        elif canonical in texts:
            problems.append(
                _header_problem(source, f"two columns map to {canonical!r}; keep one")
            )
        else:
            labels = mapping.values.get(canonical)
            texts[canonical] = _text(f"c{position}", labels)
            items += [canonical] if is_item else []
            if position in (native or {}) and not labels:
                natives[canonical] = (f"v{position}", native[position])

    for canonical, value in mapping.constants.items():
        if canonical not in spec.columns:
            rule = f"constant for an unknown column; accepted: {target.accepted()}"
            problems.append(_header_problem(canonical, rule))
        elif canonical in texts:
            rule = "given both as a file column and as a constant; keep one"
            problems.append(_header_problem(canonical, rule))
        else:
            texts[canonical] = literal(value)

    missing = [c for c in spec.required if c not in texts]
    for canonical in missing:
        rule = (
            f"required column missing; required: {', '.join(spec.required)}; "
            f"accepted: {target.accepted()}"
        )
        problems.append(_header_problem(canonical, rule))
    if problems:
        counts: dict[str, int] = {}
        for p in problems:
            key = p["rule"].split(";")[0]
            counts[key] = counts.get(key, 0) + 1
        raise ImportValidationError(str(path), problems[:20], counts)
    return Columns(texts, items, natives)


def _is_item(name: str) -> bool:
    return name.startswith(ITEM_PREFIX) and len(name) > len(ITEM_PREFIX)


def _text(column: str, labels: dict[str, str] | None) -> str:
    raw = quote(column)
    # TRIM copies every string; trimming only values that need it is much cheaper.
    text = (
        f"(CASE WHEN starts_with({raw}, ' ') OR ends_with({raw}, ' ') "
        f"THEN NULLIF(TRIM({raw}), '') ELSE NULLIF({raw}, '') END)"
    )
    if not labels:
        return text
    cases = " ".join(
        f"WHEN {literal(label.strip())} THEN {literal(value)}"
        for label, value in labels.items()
    )
    return f"(CASE {text} {cases} ELSE {text} END)"


def _unknown(target: Target, source: str, canonical: str) -> dict:
    mapped = f" (mapped to {canonical!r})" if canonical != source else ""
    rule = (
        f"unknown column{mapped}; accepted: {target.accepted()}, "
        "or a column mapped in a --mapping TOML file"
    )
    return _header_problem(source, rule)


def _header_problem(column: str, rule: str) -> dict:
    return {"row": 1, "column": column, "value": None, "rule": rule}
