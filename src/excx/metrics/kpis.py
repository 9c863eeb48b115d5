"""The five KPIs, each defined once: its source, its scale and its engine statistics.

A KPI is reduced in the engine to a handful of sufficient statistics per group
(:func:`statistics`); the estimate and its interval are then computed from those
numbers alone (:mod:`excx.metrics.compute`). Definitions follow DESIGN.md
("Metric definitions").

>>> KPIS["csat"].scale
(0.0, 100.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir

from excx.errors import InputError
from excx.schema import SCORE_RANGES

__all__ = [
    "Kpi",
    "KPIS",
    "kpi",
    "statistics",
    "engagement_score",
    "PROMOTER_MIN",
    "DETRACTOR_MAX",
    "SATISFIED_MIN",
]

# NPS categories on the 0-10 scale: 9-10 promoters, 0-6 detractors, 7-8 passives.
PROMOTER_MIN = 9
DETRACTOR_MAX = 6
# CSAT: answers of 4 or 5 on the 1-5 scale count as satisfied.
SATISFIED_MIN = 4

_CUSTOMER_DIMENSIONS = ("unit_id", "region", "channel", "served_by", "period")
_EMPLOYEE_DIMENSIONS = ("unit_id", "region", "role", "period")
_ITEM_LOW, _ITEM_HIGH = SCORE_RANGES["item"]


@dataclass(frozen=True)
class Kpi:
    """One reported KPI.

    Attributes
    ----------
    name
        The KPI's name, as the CLI and the output's ``kpi`` column spell it.
    audience
        ``"customer"`` or ``"employee"``; employee KPIs pass the privacy gate.
    kind
        ``"nps"`` (promoters minus detractors), ``"proportion"`` or ``"mean"``.
    table
        The responses table the KPI reads.
    column
        The scored column of `table`; None for the engagement index, which is
        built from ``employee_items``.
    scale
        Lowest and highest reportable value; interval limits are clipped to it.
    methods
        Accepted interval methods; the first is the default.
    dimensions
        Accepted grouping and filtering columns.
    """

    name: str
    audience: str
    kind: str
    table: str
    column: str | None
    scale: tuple[float, float]
    methods: tuple[str, ...]
    dimensions: tuple[str, ...]

    @property
    def default_method(self) -> str:
        return self.methods[0]


_NPS_METHODS = ("adjusted-wald", "wald", "bootstrap")
_PROPORTION_METHODS = ("wilson", "wald", "bootstrap")

KPIS: dict[str, Kpi] = {
    k.name: k
    for k in [
        Kpi(
            "nps",
            "customer",
            "nps",
            "customer_responses",
            "nps",
            (-100.0, 100.0),
            _NPS_METHODS,
            _CUSTOMER_DIMENSIONS,
        ),
        Kpi(
            "enps",
            "employee",
            "nps",
            "employee_responses",
            "enps",
            (-100.0, 100.0),
            _NPS_METHODS,
            _EMPLOYEE_DIMENSIONS,
        ),
        Kpi(
            "csat",
            "customer",
            "proportion",
            "customer_responses",
            "csat",
            (0.0, 100.0),
            _PROPORTION_METHODS,
            _CUSTOMER_DIMENSIONS,
        ),
        Kpi(
            "ces",
            "customer",
            "mean",
            "customer_responses",
            "ces",
            tuple(float(v) for v in SCORE_RANGES["ces"]),
            ("t",),
            _CUSTOMER_DIMENSIONS,
        ),
        Kpi(
            "engagement",
            "employee",
            "mean",
            "employee_responses",
            None,
            (0.0, 100.0),
            ("t",),
            _EMPLOYEE_DIMENSIONS,
        ),
    ]
}


def kpi(name: str) -> Kpi:
    """Return the KPI called `name`, or raise InputError listing the known ones."""
    try:
        return KPIS[name]
    except KeyError:
        raise InputError(f"unknown KPI {name!r}; accepted: {', '.join(KPIS)}") from None


def engagement_score(mean_item: ir.FloatingValue) -> ir.FloatingValue:
    """Rescale a respondent's mean item answer (1..5) to the 0..100 index."""
    return (mean_item - _ITEM_LOW) / (_ITEM_HIGH - _ITEM_LOW) * 100


def statistics(definition: Kpi, score: ir.NumericColumn) -> dict[str, ir.Scalar]:
    """The per-group sufficient statistics of a KPI, as Ibis reductions.

    Parameters
    ----------
    definition
        The KPI.
    score
        The non-null scored column (for engagement: each respondent's 0..100
        index).

    Returns
    -------
    dict
        ``nps``: n, promoters, detractors. ``proportion``: n, successes.
        ``mean``: n, total, total_sq (sums of the score and of its square, as
        float64 so that every engine returns a double).
    """
    n = score.count()
    if definition.kind == "nps":
        return {
            "n": n,
            "promoters": score.count(where=score >= PROMOTER_MIN),
            "detractors": score.count(where=score <= DETRACTOR_MAX),
        }
    if definition.kind == "proportion":
        return {"n": n, "successes": score.count(where=score >= SATISFIED_MIN)}
    value = score.cast("float64")
    return {"n": n, "total": value.sum(), "total_sq": (value * value).sum()}
