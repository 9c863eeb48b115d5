"""Known truth: the linkage estimators on the synthetic bank, over many seeds.

Run: ``.venv/bin/python benchmarks/bench_link_truth.py [--seeds 100]``

Each seed runs the real path: ``excx.synth.generate`` → an in-memory DuckDB store
(``Store.write``) → :func:`excx.linkage.panel.panel` (aggregated in the engine) →
the models. Printed, against ``Truth.enps_to_nps`` (the change in a unit's
expected NPS in month t per +1 point of its expected eNPS in month t − 1,
regional affluence held fixed):

- how often the 95% interval of :func:`fixed_effects_corrected` covers the truth
  (target: at least 90 of 100), its mean estimate and mean reliability λ;
- how often the naive :func:`fixed_effects` interval covers it and its mean
  estimate (attenuated towards zero by the sampling error of monthly eNPS);
- the share of seeds where the corrected model gave no estimate, with reasons;
- the naive *cross-sectional* estimate: OLS across units of each unit's NPS on
  its eNPS, both pooled over all months (no unit effects), whose mean is pushed
  above the truth by the regional affluence confounder; and the same with every
  affluence parameter set to 0, where that bias goes away.

Parameters (:data:`PARAMS`)
---------------------------
The ``"small"`` bank (30 serving units, 24 months) with its default causal
parameters has a within-unit reliability λ of monthly eNPS near 0.2 (about 23
respondents per unit-month for a true within-unit eNPS spread of ~11 points), and
the corrected model refuses seeds with λ ≤ 0.1. So the variant used here keeps the
default causal links (hence the default truth, 0.514) and changes only what sets
the signal-to-noise of monthly eNPS: no small branches (``small_unit_share=0``),
every employee answers the pulse (``employee_response_rate=1``: ~35 respondents
per unit-month) and a larger month-to-month engagement spread
(``engagement_sd=1.2``). λ is then near 0.5 and a seed takes ~1.5 s.

Measured (2026-12-03, 100 seeds, 8 min on 2 shared cores): corrected FE covers
94/100, mean 0.513 (truth 0.514), λ 0.53; naive FE covers 0/100, mean 0.269; no
seed without an estimate; cross-section mean 0.623 (bias +0.108), with affluence
0 mean 0.447 (bias −0.067: what is left is the attenuation by the sampling error
of unit-mean eNPS); corrected FE covers 96/100 there.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import warnings
from collections import Counter

import numpy as np
import pandas as pd

import excx
from excx import synth
from excx.linkage.measurement_error import fixed_effects_corrected
from excx.linkage.panel import panel as build_panel

PARAMS = synth.SynthParams(
    small_unit_share=0.0, employee_response_rate=1.0, engagement_sd=1.2
)
NO_AFFLUENCE = dataclasses.replace(
    PARAMS, affluence_on_engagement=0.0, affluence_on_customers=0.0
)


def cross_sectional(frame: pd.DataFrame) -> float:
    """OLS slope across units of pooled unit NPS on pooled unit eNPS.

    Each unit's eNPS (NPS) is the respondent-weighted mean of its monthly
    figures, i.e. the score over all its answers; no unit or period effects.
    """
    totals = frame.assign(
        enps_total=frame["enps"] * frame["enps_n"],
        nps_total=frame["nps"] * frame["nps_n"],
    ).groupby("unit_id")[["enps_total", "enps_n", "nps_total", "nps_n"]]
    pooled = totals.sum()
    enps = pooled["enps_total"] / pooled["enps_n"]
    nps = pooled["nps_total"] / pooled["nps_n"]
    return float(np.polyfit(enps.to_numpy(), nps.to_numpy(), 1)[0])


def run_seed(seed: int, params: synth.SynthParams = PARAMS) -> dict:
    """The estimates on one synthetic bank; intervals are 95%."""
    company = synth.generate("small", seed=seed, params=params)
    store = excx.connect("duckdb://:memory:")
    store.init()
    store.write(company.tables)
    frame = build_panel(store, period="month")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corrected = fixed_effects_corrected(frame)
    naive = corrected.extras.get("naive")
    row = {
        "seed": seed,
        "truth": company.truth.enps_to_nps,
        "reason": corrected.reason,
        "reliability": corrected.extras.get("reliability", np.nan),
        "cross_sectional": cross_sectional(frame),
    }
    for name, result in (("corrected", corrected), ("naive", naive)):
        if result is None or result.reason is not None:
            row.update({name: np.nan, f"{name}_low": np.nan, f"{name}_high": np.nan})
            continue
        low, high = result.conf_int().iloc[0]
        row.update(
            {
                name: float(result.params.iloc[0]),
                f"{name}_low": low,
                f"{name}_high": high,
            }
        )
    return row


def covered(rows: pd.DataFrame, name: str) -> int:
    """Seeds whose interval of `name` contains the truth."""
    inside = (rows[f"{name}_low"] <= rows["truth"]) & (
        rows["truth"] <= rows[f"{name}_high"]
    )
    return int(inside.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--first", type=int, default=0, help="first seed")
    args = parser.parse_args()
    seeds = range(args.first, args.first + args.seeds)

    started = time.perf_counter()
    rows = pd.DataFrame([run_seed(s) for s in seeds])
    plain = pd.DataFrame([run_seed(s, NO_AFFLUENCE) for s in seeds])
    seconds = time.perf_counter() - started

    n, truth = len(rows), float(rows["truth"].iloc[0])
    estimated = rows["reason"].isna()
    print(f"synthetic bank 'small' x {n} seeds ({seeds.start}..{seeds.stop - 1})")
    print(f"true enps_to_nps = {truth:.3f} NPS points per eNPS point (t-1 -> t)")
    print(
        f"corrected FE : covers {covered(rows, 'corrected')}/{n}, "
        f"mean {rows['corrected'].mean():.3f} (sd {rows['corrected'].std():.3f}), "
        f"mean reliability {rows['reliability'].mean():.2f}"
    )
    print(
        f"naive FE     : covers {covered(rows, 'naive')}/{n}, "
        f"mean {rows['naive'].mean():.3f} (sd {rows['naive'].std():.3f})"
    )
    print(f"no estimate  : {(~estimated).sum()}/{n} seeds")
    for reason, count in Counter(rows.loc[~estimated, "reason"]).most_common():
        print(f"    {count} x {reason}")
    print(
        f"cross-section: mean {rows['cross_sectional'].mean():.3f} "
        f"(sd {rows['cross_sectional'].std():.3f}), bias "
        f"{rows['cross_sectional'].mean() - truth:+.3f}"
    )
    print(
        f"  affluence 0: mean {plain['cross_sectional'].mean():.3f} "
        f"(sd {plain['cross_sectional'].std():.3f}), bias "
        f"{plain['cross_sectional'].mean() - truth:+.3f}; corrected FE covers "
        f"{covered(plain, 'corrected')}/{n}"
    )
    print(f"{seconds:.0f} s for {2 * n} banks")


if __name__ == "__main__":
    main()
