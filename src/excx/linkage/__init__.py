"""Linkage: how employee experience relates to customer experience and revenue.

Aggregation checks (ICC, rwg), unit-level correlation, empirical-Bayes shrinkage,
lagged fixed-effects and multilevel models, the service-profit chain and key drivers,
all on the unit × period panel that the engine aggregates.
"""

from __future__ import annotations

from excx.linkage.agreement import rwg, rwg_j
from excx.linkage.chain import chain
from excx.linkage.correlation import correlation
from excx.linkage.drivers import key_drivers
from excx.linkage.fixed_effects import fixed_effects, fixed_effects_both_directions
from excx.linkage.icc import (
    group_moments,
    icc,
    icc_from_groups,
    respondents_for_reliability,
)
from excx.linkage.item_drivers import item_drivers, item_means
from excx.linkage.lags import with_lags
from excx.linkage.link import LinkageReport, link
from excx.linkage.measurement_error import fixed_effects_corrected
from excx.linkage.multilevel import multilevel, random_intercept
from excx.linkage.panel import displayable, panel
from excx.linkage.results import LinkageResult, LinkageSummary, compare
from excx.linkage.shrinkage import shrink, variance_components

__all__: list[str] = [
    "panel",
    "displayable",
    "link",
    "LinkageReport",
    "group_moments",
    "icc",
    "icc_from_groups",
    "respondents_for_reliability",
    "rwg",
    "rwg_j",
    "correlation",
    "key_drivers",
    "item_drivers",
    "item_means",
    "shrink",
    "variance_components",
    "LinkageResult",
    "LinkageSummary",
    "compare",
    "fixed_effects",
    "fixed_effects_both_directions",
    "fixed_effects_corrected",
    "with_lags",
    "multilevel",
    "random_intercept",
    "chain",
]
