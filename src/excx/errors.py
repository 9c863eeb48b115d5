"""The exceptions and warnings excx raises, described in one place.

Every error excx raises derives from :class:`ExcxError`. Errors caused by what the
user passed in (a file, an argument, a filter) also derive from :class:`ValueError`,
so generic code that catches ``ValueError`` keeps working.

Statistical caveats are warnings, not errors: they derive from :class:`ExcxWarning`
and say how many rows or groups they concern.
"""

from __future__ import annotations

__all__ = [
    "ExcxError",
    "InputError",
    "ImportValidationError",
    "StoreError",
    "PrivacyError",
    "ExcxWarning",
    "SmallSampleWarning",
    "AggregationWarning",
    "PreTrendWarning",
]


class ExcxError(Exception):
    """Root of every error excx raises."""


class InputError(ExcxError, ValueError):
    """An argument, file or filter that excx cannot accept."""


class ImportValidationError(InputError):
    """A file failed validation; nothing was written.

    Parameters
    ----------
    path
        The file that was read.
    problems
        One dict per listed problem, with keys ``row`` (as a spreadsheet shows it,
        header = row 1), ``column``, ``value`` and ``rule``.
    counts
        Number of failing rows per rule, over the whole file.
    """

    def __init__(
        self,
        path: str,
        problems: list[dict],
        counts: dict[str, int],
        *,
        message: str | None = None,
    ) -> None:
        self.path = path
        self.problems = problems
        self.counts = counts
        super().__init__(message or self._describe())

    def _describe(self) -> str:
        total = sum(self.counts.values())
        lines = [f"{self.path}: {total} problem(s), nothing was imported"]
        for p in self.problems:
            where = f"row {p['row']}" if p.get("row") is not None else "file"
            column = f", column {p['column']}" if p.get("column") else ""
            value = f", value {p['value']!r}" if p.get("value") is not None else ""
            lines.append(f"  {where}{column}{value}: {p['rule']}")
        if total > len(self.problems):
            lines.append("  counts per rule:")
            lines += [f"    {rule}: {n}" for rule, n in self.counts.items()]
        return "\n".join(lines)


class StoreError(ExcxError):
    """The store cannot be reached, or is not in the state an operation needs."""


class PrivacyError(ExcxError, ValueError):
    """A request would reveal employee answers of a group below the threshold."""


class ExcxWarning(UserWarning):
    """Root of the statistical caveats excx reports."""


class SmallSampleWarning(ExcxWarning):
    """Some groups are too small for the interval or model to be trusted."""


class AggregationWarning(ExcxWarning):
    """Individual answers do not agree enough within units to justify unit means."""


class PreTrendWarning(ExcxWarning):
    """Treated and comparison units already drifted apart before an action began."""
