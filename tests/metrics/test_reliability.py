from __future__ import annotations

import math
from collections import defaultdict
from statistics import variance

import numpy as np
import pytest

from excx.metrics.reliability import alpha_from_covariance, cronbach_alpha


def _alpha_oracle(company, responses=None):
    """Cronbach (1951) on raw complete cases: k/(k-1) (1 - sum var_i / var_total)."""
    answers = defaultdict(dict)
    for item in company.items:
        if responses is None or item["response_id"] in responses:
            answers[item["response_id"]][item["item_id"]] = item["value"]
    items = sorted({i for a in answers.values() for i in a})
    complete = [a for a in answers.values() if len(a) == len(items)]
    item_variances = sum(variance([a[i] for a in complete]) for i in items)
    total_variance = variance([sum(a.values()) for a in complete])
    k = len(items)
    return k / (k - 1) * (1 - item_variances / total_variance)


def test_alpha_matches_raw_complete_case_formula(store, company):
    expected = _alpha_oracle(company)
    assert cronbach_alpha(store) == pytest.approx(expected, rel=1e-9)
    assert 0.7 < expected < 0.95  # items share one latent level: a reliable scale


def test_alpha_respects_where(store, company):
    agents = {r["response_id"] for r in company.employees if r["role"] == "agent"}
    got = cronbach_alpha(store, where={"role": "agent"})
    assert got == pytest.approx(_alpha_oracle(company, agents), rel=1e-9)
    assert got != pytest.approx(cronbach_alpha(store), rel=1e-6)


def test_alpha_needs_enough_respondents(store, company):
    one = company.employees[0]["response_id"]
    assert math.isnan(cronbach_alpha(store, where={"unit_id": "nowhere"}))
    assert math.isnan(cronbach_alpha(store, min_respondents=10_000))
    assert one  # the company has respondents; scope, not data, made alpha NaN


def test_alpha_from_covariance_parallel_items():
    # two items, variances 1, covariance .5: 2 * (1 - 2 / 3) = 0.666667
    assert alpha_from_covariance(np.array([[1.0, 0.5], [0.5, 1.0]])) == pytest.approx(
        2 / 3
    )
    assert math.isnan(alpha_from_covariance(np.array([[1.0]])))
