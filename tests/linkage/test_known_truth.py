"""Known truth: the linkage path on the synthetic bank recovers its causal effect.

Real path per seed: ``excx.synth.generate`` → DuckDB store → ``panel()`` in the
engine → models. The reference value is ``Truth.enps_to_nps`` of
:mod:`excx.synth` (customer_slope · engagement_on_quality / employee_slope = 0.514
NPS points per eNPS point, one month later). The parameter variant is the one of
``benchmarks/bench_link_truth.py`` (documented there): the default causal links
with more employee respondents and a wider monthly engagement spread, so that the
reliability λ of monthly eNPS is near 0.5 instead of 0.2.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import excx
from excx import synth
from excx.linkage.measurement_error import fixed_effects_corrected
from excx.linkage.panel import panel as build_panel

SEEDS = (0, 1, 2, 3, 4)
PARAMS = synth.SynthParams(
    small_unit_share=0.0, employee_response_rate=1.0, engagement_sd=1.2
)
NO_AFFLUENCE = dataclasses.replace(
    PARAMS, affluence_on_engagement=0.0, affluence_on_customers=0.0
)


def _unit_slope(frame: pd.DataFrame) -> float:
    """Cross-sectional OLS slope of pooled unit NPS on pooled unit eNPS."""
    pooled = (
        frame.assign(
            enps_total=frame["enps"] * frame["enps_n"],
            nps_total=frame["nps"] * frame["nps_n"],
        )
        .groupby("unit_id")[["enps_total", "enps_n", "nps_total", "nps_n"]]
        .sum()
    )
    enps = pooled["enps_total"] / pooled["enps_n"]
    nps = pooled["nps_total"] / pooled["nps_n"]
    return float(np.polyfit(enps.to_numpy(), nps.to_numpy(), 1)[0])


def _bank(seed: int, params: synth.SynthParams):
    company = synth.generate("small", seed=seed, params=params)
    store = excx.connect("duckdb://:memory:")
    store.init()
    store.write(company.tables)
    return company.truth, build_panel(store, period="month")


@pytest.fixture(scope="module")
def banks():
    return {seed: _bank(seed, PARAMS) for seed in SEEDS}


@pytest.fixture(scope="module")
def fits(banks):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            seed: fixed_effects_corrected(frame) for seed, (_, frame) in banks.items()
        }


def test_truth_is_the_documented_ratio(banks):
    truth, _ = banks[SEEDS[0]]
    # excx.synth module docstring: 0.12 * 0.6 / 0.14 = 0.514 (defaults kept here)
    assert truth.enps_to_nps == pytest.approx(0.12 * 0.6 / 0.14)


def test_corrected_interval_covers_the_truth(banks, fits):
    # A 95% interval misses 5% of the time: seed 1 misses, just (lower bound
    # 0.517), so the check is a coverage count over the 5 consecutive seeds.
    inside = []
    for seed in SEEDS:
        truth, result = banks[seed][0], fits[seed]
        assert result.reason is None
        assert 0.3 < result.extras["reliability"] < 0.8
        low, high = result.conf_int().iloc[0]
        inside.append(low <= truth.enps_to_nps <= high)
    # reference: Truth.enps_to_nps = 0.514 (excx.synth docstring)
    assert sum(inside) >= 4


@pytest.mark.parametrize("seed", SEEDS)
def test_naive_estimate_is_attenuated(fits, seed):
    result = fits[seed]
    naive = result.extras["naive"].params.iloc[0]
    corrected = result.params.iloc[0]
    assert abs(naive) < abs(corrected)
    # naive = λ · corrected by construction of the moment estimator
    assert naive == pytest.approx(result.extras["reliability"] * corrected, rel=1e-6)


def test_cross_section_is_biased_up_by_affluence(banks):
    truth = banks[SEEDS[0]][0].enps_to_nps
    confounded = np.mean([_unit_slope(frame) for _, frame in banks.values()])
    plain = np.mean([_unit_slope(_bank(s, NO_AFFLUENCE)[1]) for s in SEEDS])
    # bench_link_truth.py, 100 seeds: mean 0.623 against the truth 0.514 (the
    # affluence path adds to the engagement path of NPS); 0.447 with affluence 0,
    # where only the attenuation by the sampling error of unit eNPS is left.
    assert confounded > truth
    assert abs(plain - truth) < abs(confounded - truth)
