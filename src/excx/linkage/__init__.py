"""Linkage: how employee experience relates to customer experience and revenue.

Aggregation checks (ICC, rwg), unit-level correlation, empirical-Bayes shrinkage,
lagged fixed-effects and multilevel models, the service-profit chain and key drivers,
all on the unit × period panel that the engine aggregates.
"""

from __future__ import annotations

__all__: list[str] = []
